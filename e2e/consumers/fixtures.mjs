// Shared helper: builds the share fixtures with the Rust example (once per process) and serves
// the encrypted file from a tiny local HTTP server that honours the SHL `?recipient=` rule.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts the share host on a free loopback port. Requests are recorded for assertions. */
export async function startShareHost() {
  const state = { jwe: null, requests: [] };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    state.requests.push({ method: req.method, path: url.pathname, recipient: url.searchParams.get('recipient') });
    if (req.method !== 'GET' || !url.pathname.startsWith('/shl/') || !state.jwe) {
      res.writeHead(404).end();
      return;
    }
    if (!url.searchParams.get('recipient')) {
      // The SHL spec makes `recipient` required for U-flag GETs.
      res.writeHead(400, { 'content-type': 'text/plain' }).end('recipient is required');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jose' }).end(state.jwe);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `http://127.0.0.1:${server.address().port}/shl`;
  return { state, host, close: () => new Promise((r) => server.close(r)) };
}

/** Runs `cargo run -p phr-share --example emit_share_fixtures -- <dir> <host>` and reads the output. */
export function emitFixtures(shareHost) {
  const out = mkdtempSync(join(tmpdir(), 'phr-share-fixtures-'));
  const r = spawnSync('cargo', ['run', '-q', '-p', 'phr-share', '--example', 'emit_share_fixtures', '--', out, shareHost], {
    cwd: repoRoot,
    env: process.env, // CARGO_TARGET_DIR is honoured when set
    encoding: 'utf8',
    timeout: 20 * 60 * 1000,
  });
  if (r.status !== 0) {
    throw new Error(`emit_share_fixtures failed (${r.status}): ${r.stderr}`);
  }
  const read = (f) => readFileSync(join(out, f), 'utf8');
  return {
    dir: out,
    withSud: JSON.parse(read('ips-with-sud.json')),
    withoutSud: JSON.parse(read('ips-without-sud.json')),
    jwe: read('share.jwe').trim(),
    link: read('link.txt').trim(),
    key: read('key.txt').trim(),
    qr: JSON.parse(read('qr.json')),
    summaryHtml: read('summary.html'),
  };
}
