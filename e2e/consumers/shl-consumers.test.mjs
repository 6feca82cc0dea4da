// The SMART Health Link opens in independent consumers: kill-the-clipboard's SHLViewer (parses
// the link after the viewer's '#', GETs the U-flag file with ?recipient, decrypts) and jose's
// compactDecrypt; and the QR module matrix, rasterised, decodes with jsqr to the same link.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { compactDecrypt, decodeProtectedHeader, base64url } from 'jose';
import { SHLViewer } from 'kill-the-clipboard';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { emitFixtures, startShareHost } from './fixtures.mjs';

const host = await startShareHost();
after(() => host.close());
const fx = emitFixtures(host.host);
host.state.jwe = fx.jwe;

test('jose compactDecrypt opens the JWE (dir, A256GCM, DEF)', async () => {
  const header = decodeProtectedHeader(fx.jwe);
  assert.deepEqual(header, { alg: 'dir', enc: 'A256GCM', cty: 'application/fhir+json', zip: 'DEF' });
  const { plaintext } = await compactDecrypt(fx.jwe, base64url.decode(fx.key));
  const doc = JSON.parse(new TextDecoder().decode(plaintext));
  assert.deepEqual(doc, fx.withSud);
});

test('jose rejects a tampered JWE and a wrong key', async () => {
  const parts = fx.jwe.split('.');
  const ct = base64url.decode(parts[3]);
  ct[0] ^= 1;
  parts[3] = base64url.encode(ct);
  await assert.rejects(compactDecrypt(parts.join('.'), base64url.decode(fx.key)), { code: 'ERR_JWE_DECRYPTION_FAILED' });
  await assert.rejects(compactDecrypt(fx.jwe, new Uint8Array(32)), { code: 'ERR_JWE_DECRYPTION_FAILED' });
});

test('kill-the-clipboard SHLViewer resolves the link with a recipient', async () => {
  assert.ok(fx.link.startsWith('http://localhost:8080/#shlink:/'));
  const viewer = new SHLViewer({ shlinkURI: fx.link });
  assert.equal(viewer.shl.url.startsWith(host.host + '/'), true);
  assert.equal(viewer.shl.label, 'Health summary');
  const before = host.state.requests.length;
  const resolved = await viewer.resolveSHL({ recipient: 'Dr. Test, Riverside Clinic' });
  assert.equal(resolved.fhirResources.length, 1);
  const doc = resolved.fhirResources[0];
  assert.equal(doc.resourceType, 'Bundle');
  assert.equal(doc.type, 'document');
  assert.deepEqual(doc, fx.withSud);
  const reqs = host.state.requests.slice(before);
  assert.deepEqual(reqs.map((r) => [r.method, r.recipient]), [['GET', 'Dr. Test, Riverside Clinic']]);
  // The key never reaches the server: only the random file path is requested.
  assert.ok(!reqs.some((r) => r.path.includes(fx.key)));
});

test('the link payload follows the SHL spec', () => {
  const payload = JSON.parse(new TextDecoder().decode(base64url.decode(fx.link.split('shlink:/')[1])));
  assert.equal(payload.flag, 'U');
  assert.equal(payload.key, fx.key);
  assert.equal(payload.key.length, 43);
  assert.ok(payload.url.length <= 128);
  assert.ok(payload.exp > Date.now() / 1000);
  assert.equal(payload.v, 1);
});

test('the QR module matrix decodes with jsqr to the same link', () => {
  const { width, modules } = fx.qr;
  assert.equal(modules.length, width * width);
  const quiet = 4;
  const scale = 6;
  const size = (width + 2 * quiet) * scale;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const mx = Math.floor(x / scale) - quiet;
      const my = Math.floor(y / scale) - quiet;
      const dark = mx >= 0 && my >= 0 && mx < width && my < width && modules[my * width + mx] === '1';
      const i = (y * size + x) * 4;
      const c = dark ? 0 : 255;
      png.data[i] = c; png.data[i + 1] = c; png.data[i + 2] = c; png.data[i + 3] = 255;
    }
  }
  const code = jsQR(new Uint8ClampedArray(png.data), size, size);
  assert.ok(code, 'jsqr found no QR code');
  assert.equal(code.data, fx.link);
  assert.equal(code.version, fx.qr.version);
});

test('the printable summary is a standalone, escaped HTML document', () => {
  const html = fx.summaryHtml;
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /@media print/);
  assert.match(html, /Demo General Hospital/);
  assert.match(html, /patient-reported/);
  assert.match(html, /remain the legal medical record/);
  assert.ok(!/<script/i.test(html));
});
