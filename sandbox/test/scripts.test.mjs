// sandbox/start.sh and sandbox/stop.sh: background start with a pid file, idempotent start and stop,
// a stale pid file, and the port-in-use message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, SANDBOX_DIR, fixtureData, freePort } from './helpers.mjs';

let data;
let runDir;
let ports;

function run(script, env) {
  return new Promise((resolve) => {
    execFile('bash', [join(SANDBOX_DIR, script)], { env: cleanEnv(env), timeout: 120000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}
const env = (extra = {}) => ({
  SANDBOX_DATA_DIR: data.dir,
  SANDBOX_RUN_DIR: runDir,
  SANDBOX_GENERAL_PORT: String(ports[0]),
  SANDBOX_CLINIC_PORT: String(ports[1]),
  SANDBOX_ADMIN_PORT: String(ports[2]),
  ...extra,
});

before(async () => {
  data = await fixtureData();
  runDir = mkdtempSync(join(tmpdir(), 'sandbox-run-'));
  ports = [await freePort(), await freePort(), await freePort()];
});
after(async () => {
  await run('stop.sh', env());
  rmSync(runDir, { recursive: true, force: true });
  data?.cleanup();
});

test('start runs the sandbox in the background; a second start and stop are harmless', async () => {
  const first = await run('start.sh', env());
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /sandbox: running \(pid \d+\)/);
  assert.match(first.stdout, new RegExp(`Demo General Hospital +FHIR http://localhost:${ports[0]}/fhir`));
  const pid = Number(readFileSync(join(runDir, 'sandbox.pid'), 'utf8'));
  assert.ok(pid > 0);
  const meta = await fetch(`http://127.0.0.1:${ports[1]}/fhir/metadata`);
  assert.equal(meta.status, 200, 'both providers answer when start returns');
  assert.equal((await fetch(`http://127.0.0.1:${ports[2]}/_sandbox/ready`)).status, 200);

  const second = await run('start.sh', env());
  assert.equal(second.code, 0);
  assert.match(second.stdout, new RegExp(`already running \\(pid ${pid}\\)`));

  const stop = await run('stop.sh', env());
  assert.match(stop.stdout, new RegExp(`stopped \\(pid ${pid}\\)`));
  assert.ok(!existsSync(join(runDir, 'sandbox.pid')));
  await assert.rejects(fetch(`http://127.0.0.1:${ports[0]}/fhir/metadata`), TypeError);
  const again = await run('stop.sh', env());
  assert.equal(again.code, 0);
  assert.match(again.stdout, /not running/);
});

test('a stale pid file (another process) is ignored', async () => {
  writeFileSync(join(runDir, 'sandbox.pid'), String(process.pid));
  const r = await run('start.sh', env());
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual(Number(readFileSync(join(runDir, 'sandbox.pid'), 'utf8')), process.pid);
  assert.match((await run('stop.sh', env())).stdout, /stopped/);
  assert.ok(process.kill(process.pid, 0), 'stop did not touch the unrelated process');
});

test('a port in use stops start with a message naming the process and the variable', async () => {
  const blocker = createServer();
  await new Promise((resolve) => blocker.listen(ports[1], '127.0.0.1', resolve));
  try {
    const r = await run('start.sh', env());
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `sandbox: port ${ports[1]} is already in use by node \\(pid ${process.pid}\\); stop it or set SANDBOX_CLINIC_PORT=`,
      ),
    );
    assert.ok(!existsSync(join(runDir, 'sandbox.pid')));
  } finally {
    blocker.close();
  }
});

test('the server itself reports a port taken between the check and its start', async () => {
  const blocker = createServer();
  await new Promise((resolve) => blocker.listen(ports[2], '127.0.0.1', resolve));
  try {
    const r = await new Promise((resolve) => {
      execFile(
        process.execPath,
        [
          join(SANDBOX_DIR, 'server.mjs'),
          '--data-dir',
          data.dir,
          '--general-port',
          '0',
          '--clinic-port',
          '0',
          '--admin-port',
          String(ports[2]),
        ],
        (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stderr }),
      );
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`port ${ports[2]} is already in use \\(sandbox admin API; set SANDBOX_ADMIN_PORT\\)`),
    );
  } finally {
    blocker.close();
  }
});

test('server.mjs explains missing data and bad options', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'sandbox-nodata-'));
  try {
    const r = await new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(SANDBOX_DIR, 'server.mjs'), '--data-dir', empty],
        { env: cleanEnv() },
        (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stderr }),
      );
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /run sandbox\/generate-data\.sh first/);
    const bad = await new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(SANDBOX_DIR, 'server.mjs'), '--general-port', 'abc'],
        { env: cleanEnv() },
        (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stderr }),
      );
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /general port must be a port number/);
    writeFileSync(join(empty, 'general.ndjson'), '{"resourceType":"Patient","id":"p1"}\n{"resourceType":\n');
    writeFileSync(join(empty, 'clinic.ndjson'), '');
    const corrupt = await new Promise((resolve) => {
      execFile(
        process.execPath,
        [
          join(SANDBOX_DIR, 'server.mjs'),
          '--data-dir',
          empty,
          '--general-port',
          '0',
          '--clinic-port',
          '0',
          '--admin-port',
          '0',
        ],
        { env: cleanEnv() },
        (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stderr }),
      );
    });
    assert.equal(corrupt.code, 1);
    assert.match(
      corrupt.stderr,
      /cannot load Demo General Hospital's data: .*general\.ndjson, resource 2: not valid JSON/,
    );
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
