// Everything the servers must refuse: missing or plain PKCE, a wrong or missing aud, an unregistered
// redirect URI, a wrong verifier, a reused code, other origins (CORS), missing or bad tokens, writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  fixtureData,
  startSandbox,
  launch,
  authorize,
  pkcePair,
  tokenRequest,
  fhirGet,
  APP_ORIGIN,
  CLIENT_ID,
  REDIRECT_URI,
} from './helpers.mjs';

const EVIL = 'http://evil.example';
let data;
let sb;
let patientId;
before(async () => {
  data = await fixtureData();
  sb = await startSandbox({ dataDir: data.dir });
  patientId = data.manifest.patients[0].general.id;
});
after(async () => {
  await sb?.stop();
  data?.cleanup();
});

test('an authorization request without PKCE is refused', async () => {
  const r = await authorize(sb.general, { patient: patientId });
  assert.equal(r.error, 'invalid_request');
  assert.match(r.errorDescription, /PKCE/);
  assert.deepEqual(r.pages, [], 'refused before the login page');
});

test('PKCE method plain is refused', async () => {
  const { verifier } = pkcePair();
  const r = await authorize(sb.general, { patient: patientId, challenge: verifier, method: 'plain' });
  assert.equal(r.error, 'invalid_request');
  assert.match(r.errorDescription, /code_challenge_method/);
});

test('aud must be this FHIR base, and is required', async () => {
  const { challenge } = pkcePair();
  const wrong = await authorize(sb.general, { patient: patientId, challenge, aud: 'http://evil.example/fhir' });
  assert.equal(wrong.error, 'invalid_request');
  assert.match(wrong.errorDescription, /aud must be/);
  const other = await authorize(sb.general, { patient: patientId, challenge, aud: sb.clinic.fhirBase });
  assert.equal(other.error, 'invalid_request', "the other provider's base is wrong here");
  const missing = await authorize(sb.general, { patient: patientId, challenge, aud: null });
  assert.equal(missing.error, 'invalid_request');
  assert.match(missing.errorDescription, /aud/);
});

test('an unregistered redirect URI gets an error page, never a redirect', async () => {
  const { challenge } = pkcePair();
  for (const uri of ['http://evil.example/', 'http://127.0.0.1:18080/other/', 'http://127.0.0.1:18080']) {
    const r = await authorize(sb.general, { patient: patientId, challenge, redirectUri: uri });
    assert.equal(r.status, 400, uri);
    assert.equal(r.location, undefined);
    assert.match(r.html, /redirect_uri/);
  }
});

test('a wrong code_verifier is refused, and so is a code used twice', async () => {
  const { verifier, challenge } = pkcePair();
  const a = await authorize(sb.general, { patient: patientId, challenge });
  const bad = await tokenRequest(sb.general, {
    grant_type: 'authorization_code',
    code: a.code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    code_verifier: pkcePair().verifier,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_grant');

  const b = await authorize(sb.general, { patient: patientId, challenge });
  const params = {
    grant_type: 'authorization_code',
    code: b.code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    code_verifier: verifier,
  };
  assert.equal((await tokenRequest(sb.general, params)).status, 200);
  const again = await tokenRequest(sb.general, params);
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
});

test('the code must be redeemed with the same redirect URI', async () => {
  const { verifier, challenge } = pkcePair();
  const a = await authorize(sb.general, { patient: patientId, challenge });
  const r = await tokenRequest(sb.general, {
    grant_type: 'authorization_code',
    code: a.code,
    redirect_uri: 'http://127.0.0.1:18080/apps/phr/',
    client_id: CLIENT_ID,
    code_verifier: verifier,
  });
  assert.equal(r.body.error, 'invalid_grant');
});

test('CORS on the token endpoint: only the app origin', async () => {
  const pre = (origin) =>
    fetch(`${sb.general.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const ok = await pre(APP_ORIGIN);
  assert.equal(ok.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.match(ok.headers.get('access-control-allow-methods'), /POST/);
  assert.equal((await pre(EVIL)).headers.get('access-control-allow-origin'), null);

  const { verifier, challenge } = pkcePair();
  const a = await authorize(sb.general, { patient: patientId, challenge });
  const evil = await tokenRequest(
    sb.general,
    {
      grant_type: 'authorization_code',
      code: a.code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: verifier,
    },
    { origin: EVIL },
  );
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
  assert.equal(evil.status, 400, 'oidc-provider refuses a token request from an origin the client does not have');
});

test('CORS on the FHIR endpoints: only the app origin; preflight too', async () => {
  const t = await launch(sb.general, patientId);
  const good = await fhirGet(sb.general, `Patient/${patientId}`, t.access_token, { origin: APP_ORIGIN });
  assert.equal(good.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.match(good.headers.get('access-control-expose-headers'), /ETag/);
  const evil = await fhirGet(sb.general, `Patient/${patientId}`, t.access_token, { origin: EVIL });
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
  const pre = (origin) =>
    fetch(`${sb.general.fhirBase}/Observation`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
  const p1 = await pre(APP_ORIGIN);
  assert.equal(p1.status, 204);
  assert.equal(p1.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.match(p1.headers.get('access-control-allow-headers'), /Authorization/);
  assert.equal((await pre(EVIL)).headers.get('access-control-allow-origin'), null);
  const unauth = await fhirGet(sb.general, 'Observation', undefined, { origin: APP_ORIGIN });
  assert.equal(unauth.status, 401);
  assert.equal(unauth.headers.get('access-control-allow-origin'), APP_ORIGIN, 'the app can read the 401');
});

test('FHIR requests need a valid bearer token', async () => {
  const none = await fhirGet(sb.general, `Patient/${patientId}`);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="fhir"');
  assert.equal(none.body.resourceType, 'OperationOutcome');
  const bad = await fhirGet(sb.general, `Patient/${patientId}`, 'not-a-token');
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /^Bearer realm="fhir", error="invalid_token"/);
});

test('the FHIR endpoint is read-only and answers unknown types and parameters with errors', async () => {
  const t = await launch(sb.general, patientId);
  const post = await fetch(`${sb.general.fhirBase}/Observation`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }),
  });
  assert.equal(post.status, 405);
  assert.equal((await fhirGet(sb.general, 'Nonsense', t.access_token)).status, 404);
  const unknown = await fhirGet(sb.general, 'Observation?colour=blue', t.access_token);
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.issue[0].diagnostics, /Unknown search parameter "colour"/);
  assert.equal((await fhirGet(sb.general, 'Observation?_sort=colour', t.access_token)).status, 400);
  assert.equal((await fhirGet(sb.general, 'Observation?_compartment=Patient/x', t.access_token)).status, 400);
  assert.equal((await fhirGet(sb.general, `Patient/${patientId}/$everything`, t.access_token)).status, 400);
});
