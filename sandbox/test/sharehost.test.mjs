// The SMART Health Link share host (nginx + WebDAV): start/stop scripts, PUT/GET/POST/DELETE, CORS,
// content types, the body limit, and an independent SHL viewer (npm kill-the-clipboard) resolving
// links stored on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { SHLViewer } from 'kill-the-clipboard';
import { cleanEnv, SANDBOX_DIR, APP_ORIGIN, freePort } from './helpers.mjs';

const EVIL = 'http://evil.example';
let runDir;
let port;
let base;

function run(script, env) {
  return new Promise((resolve) => {
    execFile('bash', [join(SANDBOX_DIR, 'sharehost', script)], { env: cleanEnv(env) }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}
const env = () => ({
  SHAREHOST_PORT: String(port),
  SHAREHOST_RUN_DIR: runDir,
  SHAREHOST_APP_ORIGINS: `${APP_ORIGIN},http://localhost:8080`,
});

before(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'sharehost-'));
  port = await freePort();
  base = `http://127.0.0.1:${port}/shl`;
  const r = await run('start.sh', env());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sharehost: running/);
});
after(async () => {
  await run('stop.sh', env());
  rmSync(runDir, { recursive: true, force: true });
});

const path = () => randomBytes(32).toString('base64url');

test('start is idempotent and stop/start keep the stored files', async () => {
  const again = await run('start.sh', env());
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already running/);
  const p = `${base}/${path()}`;
  assert.equal((await fetch(p, { method: 'PUT', body: 'kept' })).status, 201);
  const stop = await run('stop.sh', env());
  assert.match(stop.stdout, /stopped/);
  assert.match((await run('stop.sh', env())).stdout, /not running/);
  await assert.rejects(fetch(p), TypeError, 'nothing answers once stopped');
  const start = await run('start.sh', env());
  assert.equal(start.code, 0, start.stderr);
  assert.equal(await (await fetch(p)).text(), 'kept');
});

test('PUT stores (creating folders), GET reads with a recipient query, DELETE revokes', async () => {
  const p = `${base}/${path()}/file.jwe`;
  const put = await fetch(p, { method: 'PUT', body: 'eyJhbGciOiJkaXIifQ..iv.ct.tag', headers: { origin: APP_ORIGIN } });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('access-control-allow-origin'), APP_ORIGIN);
  const get = await fetch(`${p}?recipient=${encodeURIComponent('Dr. Who, clinic')}`, {
    headers: { origin: APP_ORIGIN },
  });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('content-type'), 'application/jose');
  assert.equal(get.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.equal(get.headers.get('cache-control'), 'no-store');
  assert.equal(await get.text(), 'eyJhbGciOiJkaXIifQ..iv.ct.tag');
  assert.equal((await fetch(p, { method: 'PUT', body: 'replaced' })).status, 204);
  assert.equal(await (await fetch(p)).text(), 'replaced');
  assert.equal((await fetch(p, { method: 'DELETE', headers: { origin: APP_ORIGIN } })).status, 204);
  assert.equal((await fetch(p)).status, 404);
  assert.equal((await fetch(p, { method: 'DELETE' })).status, 404);
});

test('CORS only for the app origins; preflight answered', async () => {
  const p = `${base}/${path()}`;
  await fetch(p, { method: 'PUT', body: 'x' });
  assert.equal((await fetch(p, { headers: { origin: EVIL } })).headers.get('access-control-allow-origin'), null);
  const pre = await fetch(p, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://localhost:8080',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:8080');
  assert.match(pre.headers.get('access-control-allow-methods'), /PUT/);
  assert.match(pre.headers.get('access-control-allow-methods'), /DELETE/);
  assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/);
  const evilPre = await fetch(p, {
    method: 'OPTIONS',
    headers: { origin: EVIL, 'access-control-request-method': 'PUT' },
  });
  assert.equal(evilPre.headers.get('access-control-allow-origin'), null);
});

test('bodies up to 20 MB are accepted; larger ones are refused; nothing outside /shl/ and no listings', async () => {
  assert.equal(
    (await fetch(`${base}/${path()}`, { method: 'PUT', body: Buffer.alloc(15 * 1024 * 1024, 65) })).status,
    201,
  );
  assert.equal(
    (await fetch(`${base}/${path()}`, { method: 'PUT', body: Buffer.alloc(21 * 1024 * 1024, 65) })).status,
    413,
  );
  assert.equal((await fetch(`http://127.0.0.1:${port}/elsewhere`, { method: 'PUT', body: 'x' })).status, 404);
  const dir = path();
  await fetch(`${base}/${dir}/a`, { method: 'PUT', body: 'x' });
  const listing = await fetch(`${base}/${dir}/`);
  assert.notEqual(listing.status, 200);
  assert.ok(existsSync(join(runDir, 'files', 'shl', dir, 'a')), 'files live under the run directory');
});

test('an independent SHL viewer resolves a U-flag link and a manifest link stored here', async () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haley' }] } }],
  };
  const key = randomBytes(32);
  const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(bundle)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'application/fhir+json' })
    .encrypt(key);
  const link = (payload) =>
    `shlink:/${Buffer.from(JSON.stringify({ ...payload, key: key.toString('base64url'), v: 1 })).toString('base64url')}`;

  const direct = `${base}/${path()}`;
  assert.equal((await fetch(direct, { method: 'PUT', body: jwe })).status, 201);
  const u = await new SHLViewer({ shlinkURI: link({ url: direct, flag: 'U', label: 'Summary' }) }).resolveSHL({
    recipient: 'Test clinic',
  });
  assert.deepEqual(u.fhirResources, [bundle]);

  // A static manifest answers the manifest POST (no passcode: that needs a server).
  const folder = `${base}/${path()}`;
  assert.equal((await fetch(`${folder}/file.jwe`, { method: 'PUT', body: jwe })).status, 201);
  const manifest = { files: [{ contentType: 'application/fhir+json', location: `${folder}/file.jwe` }] };
  assert.equal((await fetch(`${folder}/manifest.json`, { method: 'PUT', body: JSON.stringify(manifest) })).status, 201);
  const post = await fetch(`${folder}/manifest.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: APP_ORIGIN },
    body: '{"recipient":"x"}',
  });
  assert.equal(post.status, 200);
  assert.match(post.headers.get('content-type'), /^application\/json/);
  assert.equal(post.headers.get('access-control-allow-origin'), APP_ORIGIN);
  const m = await new SHLViewer({ shlinkURI: link({ url: `${folder}/manifest.json`, label: 'Summary' }) }).resolveSHL({
    recipient: 'Test clinic',
  });
  assert.deepEqual(m.fhirResources, [bundle]);
  assert.equal((await fetch(direct, { method: 'DELETE' })).status, 204);
  await assert.rejects(
    new SHLViewer({ shlinkURI: link({ url: direct, flag: 'U' }) }).resolveSHL({ recipient: 'Test clinic' }),
    'a revoked link does not resolve',
  );
});

test('start refuses a port in use, naming the process and the variable to change', async () => {
  const blocker = createServer();
  const busy = await new Promise((resolve) => blocker.listen(0, '127.0.0.1', () => resolve(blocker.address().port)));
  const other = mkdtempSync(join(tmpdir(), 'sharehost-busy-'));
  try {
    const r = await run('start.sh', { SHAREHOST_PORT: String(busy), SHAREHOST_RUN_DIR: other });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(`port ${busy} is already in use by node \\(pid ${process.pid}\\); stop it or set SHAREHOST_PORT=`),
    );
  } finally {
    blocker.close();
    rmSync(other, { recursive: true, force: true });
  }
});
