// The full SMART standalone patient launch against the real servers, over HTTP from Node: discovery,
// the login and approval pages, PKCE, the token response, FHIR reads and paging, refresh rotation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  fixtureData,
  startSandbox,
  launch,
  authorize,
  pkcePair,
  tokenRequest,
  fhirGet,
  searchAll,
  APP_ORIGIN,
  CLIENT_ID,
  REDIRECT_URI,
  SUBPATH_REDIRECT_URI,
} from './helpers.mjs';

let data;
let sb;
let stefan;
before(async () => {
  data = await fixtureData();
  sb = await startSandbox({ dataDir: data.dir });
  stefan = data.manifest.patients.find((p) => p.name === 'Stefan Haley');
});
after(async () => {
  await sb?.stop();
  data?.cleanup();
});

test('discovery: smart-configuration and CapabilityStatement, open to any origin', async () => {
  const res = await fetch(`${sb.general.fhirBase}/.well-known/smart-configuration`, {
    headers: { origin: 'https://any.example' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const conf = await res.json();
  assert.equal(conf.issuer, sb.general.issuer);
  assert.equal(conf.authorization_endpoint, `${sb.general.issuer}/auth`);
  assert.equal(conf.token_endpoint, `${sb.general.issuer}/token`);
  assert.deepEqual(conf.code_challenge_methods_supported, ['S256']);
  for (const c of [
    'launch-standalone',
    'client-public',
    'context-standalone-patient',
    'permission-patient',
    'permission-offline',
    'permission-v1',
    'permission-v2',
    'sso-openid-connect',
  ]) {
    assert.ok(conf.capabilities.includes(c), c);
  }
  for (const s of ['launch/patient', 'offline_access', 'patient/*.rs', 'patient/*.read', 'openid', 'fhirUser'])
    assert.ok(conf.scopes_supported.includes(s), s);

  const meta = await fetch(`${sb.clinic.fhirBase}/metadata`, { headers: { origin: 'https://any.example' } });
  assert.equal(meta.headers.get('access-control-allow-origin'), '*');
  const cs = await meta.json();
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
  const oauth = cs.rest[0].security.extension.find((e) => e.url.endsWith('/oauth-uris'));
  assert.equal(oauth.extension.find((e) => e.url === 'authorize').valueUri, `${sb.clinic.issuer}/auth`);
  assert.equal(oauth.extension.find((e) => e.url === 'token').valueUri, `${sb.clinic.issuer}/token`);
  const obs = cs.rest[0].resource.find((r) => r.type === 'Observation');
  for (const p of ['_lastUpdated', '_id', 'patient', 'category', 'code', 'date'])
    assert.ok(
      obs.searchParam.some((s) => s.name === p),
      p,
    );
  assert.ok(!obs.searchParam.some((s) => s.name === '_compartment'));
});

test('standalone launch: login and approval pages, state, code, token response with patient', async () => {
  const { verifier, challenge } = pkcePair();
  const auth = await authorize(sb.general, { patient: stefan.general.id, challenge, state: 'state-123' });
  assert.deepEqual(auth.pages, ['login', 'consent']);
  assert.equal(auth.state, 'state-123');
  assert.equal(auth.iss, sb.general.issuer);
  assert.equal(auth.location.origin + auth.location.pathname, REDIRECT_URI);
  assert.ok(auth.code);

  const token = await tokenRequest(sb.general, {
    grant_type: 'authorization_code',
    code: auth.code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    code_verifier: verifier,
  });
  assert.equal(token.status, 200);
  assert.equal(token.headers.get('access-control-allow-origin'), APP_ORIGIN);
  const t = token.body;
  assert.equal(t.token_type, 'Bearer');
  assert.equal(t.patient, stefan.general.id);
  assert.deepEqual(t.scope.split(' ').sort(), [
    'fhirUser',
    'launch/patient',
    'offline_access',
    'openid',
    'patient/*.rs',
  ]);
  assert.ok(t.expires_in > 0);
  assert.ok(t.refresh_token);

  const jwks = createRemoteJWKSet(new URL(`${sb.general.issuer}/jwks`));
  const { payload } = await jwtVerify(t.id_token, jwks, { issuer: sb.general.issuer, audience: CLIENT_ID });
  assert.equal(payload.sub, stefan.general.id);
  assert.equal(payload.fhirUser, `${sb.general.fhirBase}/Patient/${stefan.general.id}`);

  const patient = await fhirGet(sb.general, `Patient/${t.patient}`, t.access_token);
  assert.equal(patient.status, 200);
  assert.equal(patient.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.match(patient.headers.get('content-type'), /^application\/fhir\+json/);
  assert.equal(patient.headers.get('etag'), 'W/"1"');
  assert.equal(patient.body.id, stefan.general.id);
  assert.equal(patient.body.meta.compartment, undefined, 'meta.compartment is internal');
});

test('the redirect URI may be a sub-path, and the two providers issue separate tokens', async () => {
  const t = await launch(sb.clinic, stefan.clinic.id, { redirectUri: SUBPATH_REDIRECT_URI });
  assert.equal(t.auth.location.pathname, '/apps/phr/');
  assert.equal(t.patient, stefan.clinic.id);
  const ok = await fhirGet(sb.clinic, `Patient/${stefan.clinic.id}`, t.access_token);
  assert.equal(ok.status, 200);
  const elsewhere = await fhirGet(sb.general, `Patient/${stefan.general.id}`, t.access_token);
  assert.equal(elsewhere.status, 401, 'a clinic token means nothing to the hospital');
});

test('search paging: total is exact, next links walk every page once, _count and _offset are checked', async () => {
  const t = await launch(sb.general, stefan.general.id);
  const first = await fhirGet(sb.general, 'Observation?_count=3', t.access_token);
  assert.equal(first.status, 200);
  assert.equal(first.body.type, 'searchset');
  assert.equal(first.body.entry.length, 3);
  const self = first.body.link.find((l) => l.relation === 'self');
  assert.equal(self.url, `${sb.general.fhirBase}/Observation?_count=3`);
  assert.ok(first.body.link.some((l) => l.relation === 'next'));
  assert.ok(first.body.entry.every((e) => e.fullUrl === `${sb.general.fhirBase}/Observation/${e.resource.id}`));
  const all = await searchAll(sb.general, 'Observation?_count=3', t.access_token);
  assert.equal(all.length, first.body.total);
  assert.equal(new Set(all.map((r) => r.id)).size, all.length, 'no resource on two pages');
  const last = await fhirGet(sb.general, `Observation?_count=3&_offset=${first.body.total - 1}`, t.access_token);
  assert.equal(last.body.entry.length, 1);
  assert.ok(!last.body.link.some((l) => l.relation === 'next'));
  assert.ok(last.body.link.some((l) => l.relation === 'previous'));
  const count = await fhirGet(sb.general, 'Observation?_summary=count', t.access_token);
  assert.equal(count.body.total, first.body.total);
  assert.equal(count.body.entry, undefined);
  assert.equal((await fhirGet(sb.general, 'Observation?_count=abc', t.access_token)).status, 400);
  assert.equal((await fhirGet(sb.general, 'Observation?_count=5000', t.access_token)).status, 400);
  assert.equal((await fhirGet(sb.general, 'Observation?_offset=-1', t.access_token)).status, 400);
  const dflt = await fhirGet(sb.general, 'Observation', t.access_token);
  assert.equal(dflt.body.entry.length, Math.min(20, first.body.total), 'default page size 20');
});

test('refresh tokens rotate; reusing an old one is rejected and revokes the grant', async () => {
  const t = await launch(sb.general, stefan.general.id);
  const r1 = await tokenRequest(sb.general, {
    grant_type: 'refresh_token',
    refresh_token: t.refresh_token,
    client_id: CLIENT_ID,
  });
  assert.equal(r1.status, 200);
  assert.equal(r1.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.ok(r1.body.refresh_token);
  assert.notEqual(r1.body.refresh_token, t.refresh_token, 'rotated');
  assert.equal(r1.body.patient, stefan.general.id, 'the refreshed response names the patient too');
  assert.equal((await fhirGet(sb.general, `Patient/${stefan.general.id}`, r1.body.access_token)).status, 200);

  const reuse = await tokenRequest(sb.general, {
    grant_type: 'refresh_token',
    refresh_token: t.refresh_token,
    client_id: CLIENT_ID,
  });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error, 'invalid_grant');
  const after = await tokenRequest(sb.general, {
    grant_type: 'refresh_token',
    refresh_token: r1.body.refresh_token,
    client_id: CLIENT_ID,
  });
  assert.equal(after.body.error, 'invalid_grant', 'reuse detection revoked the rotated token too');
  assert.equal(
    (await fhirGet(sb.general, `Patient/${stefan.general.id}`, r1.body.access_token)).status,
    401,
    'and its access token',
  );
});

test('without offline_access there is no refresh token; without launch/patient no patient in the response', async () => {
  const t = await launch(sb.general, stefan.general.id, { scope: 'openid fhirUser patient/*.rs' });
  assert.equal(t.refresh_token, undefined);
  assert.equal(t.patient, undefined);
  assert.equal(
    (await fhirGet(sb.general, `Patient/${stefan.general.id}`, t.access_token)).status,
    200,
    'the account still scopes the token',
  );
});

test('Deny on the approval page, and Cancel on the login page, redirect with access_denied and the state', async () => {
  const { challenge } = pkcePair();
  const denied = await authorize(sb.general, {
    patient: stefan.general.id,
    challenge,
    state: 's-deny',
    decision: 'deny',
  });
  assert.deepEqual(denied.pages, ['login', 'consent']);
  assert.equal(denied.error, 'access_denied');
  assert.equal(denied.state, 's-deny');
  assert.equal(denied.code, undefined);
  const cancelled = await authorize(sb.general, { patient: undefined, challenge, state: 's-cancel' });
  assert.deepEqual(cancelled.pages, ['login']);
  assert.equal(cancelled.error, 'access_denied');
  assert.equal(cancelled.state, 's-cancel');
});

test('the login page lists the patients with stable ids and labels; the approval page names scopes', async () => {
  const { challenge } = pkcePair();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid launch/patient patient/Observation.rs',
    state: 's',
    aud: sb.general.fhirBase,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  let res = await fetch(`${sb.general.issuer}/auth?${q}`, { redirect: 'manual' });
  const cookies = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  for (let i = 0; i < 5 && res.status >= 300 && res.status < 400; i++) {
    res = await fetch(new URL(res.headers.get('location'), sb.general.issuer), {
      redirect: 'manual',
      headers: { cookie: cookies },
    });
  }
  const html = await res.text();
  assert.equal(res.status, 200);
  for (const p of data.manifest.patients) {
    assert.ok(html.includes(`id="patient-${p.general.id}"`), p.name);
    assert.ok(html.includes(`data-patient-id="${p.general.id}"`));
    assert.match(html, new RegExp(`<label for="patient-${p.general.id}">${p.name} `));
  }
  assert.ok(html.includes('id="login-submit"'));
  assert.ok(html.includes('<legend'));
});
