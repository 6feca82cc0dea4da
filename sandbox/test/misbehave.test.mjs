// Each misbehaviour knob of the admin API, and reset.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  fixtureData,
  startSandbox,
  launch,
  authorize,
  pkcePair,
  tokenRequest,
  fhirGet,
  adminPost,
  APP_ORIGIN,
  CLIENT_ID,
} from './helpers.mjs';
import { Misbehaviour, KnobError } from '../lib/misbehave.mjs';
import { isLoopback } from '../lib/provider.mjs';

let data;
let sb;
let patient;
let token;
let knobs;
before(async () => {
  data = await fixtureData();
  sb = await startSandbox({ dataDir: data.dir });
  patient = data.manifest.patients.find((p) => p.name === 'Stefan Haley').general.id;
  knobs = `http://127.0.0.1:${sb.general.port}/_sandbox/misbehave`;
});
beforeEach(async () => {
  const r = await adminPost(`${sb.admin}/reset`);
  assert.equal(r.status, 200);
  token = (await launch(sb.general, patient)).access_token;
});
after(async () => {
  await sb?.stop();
  data?.cleanup();
});

const misbehave = async (body, url = knobs) => {
  const r = await adminPost(url, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
};

test('deny: the next authorization ends with access_denied, without any page', async () => {
  await misbehave({ deny: 1 });
  const { challenge } = pkcePair();
  const denied = await authorize(sb.general, { patient, challenge, state: 'st' });
  assert.equal(denied.error, 'access_denied');
  assert.equal(denied.state, 'st');
  assert.deepEqual(denied.pages, []);
  const next = await authorize(sb.general, { patient, challenge });
  assert.ok(next.code, 'only one authorization was denied');
});

test('expireTokens: current access tokens stop working; refresh tokens still work', async () => {
  const t = await launch(sb.general, patient);
  assert.equal((await fhirGet(sb.general, 'Condition', t.access_token)).status, 200);
  const r = await misbehave({ expireTokens: true });
  assert.ok(r.expiredAccessTokens >= 2);
  const expired = await fhirGet(sb.general, 'Condition', t.access_token);
  assert.equal(expired.status, 401);
  assert.match(expired.headers.get('www-authenticate'), /invalid_token/);
  const refreshed = await tokenRequest(sb.general, {
    grant_type: 'refresh_token',
    refresh_token: t.refresh_token,
    client_id: CLIENT_ID,
  });
  assert.equal(refreshed.status, 200);
  assert.equal((await fhirGet(sb.general, 'Condition', refreshed.body.access_token)).status, 200);
});

test('fail: a type answers with the given status and an OperationOutcome, N times', async () => {
  await misbehave({ fail: { type: 'Condition', status: 500, times: 2 } });
  for (let i = 0; i < 2; i++) {
    const r = await fhirGet(sb.general, 'Condition', token);
    assert.equal(r.status, 500);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.equal(r.headers.get('access-control-allow-origin'), APP_ORIGIN);
  }
  assert.equal((await fhirGet(sb.general, 'Condition', token)).status, 200);
  assert.equal((await fhirGet(sb.general, 'Observation', token)).status, 200, 'other types are unaffected');
  await misbehave({
    fail: [
      { type: '*', status: 502, body: 'html' },
      { type: 'Observation', status: 429, body: 'empty' },
    ],
  });
  const html = await fhirGet(sb.general, 'Observation', token);
  assert.equal(html.status, 502);
  assert.match(html.headers.get('content-type'), /text\/html/);
  const empty = await fhirGet(sb.general, 'Observation', token);
  assert.equal(empty.status, 429);
  assert.equal(empty.text, '');
});

test('failPage: one page of a search fails, the others and a retry succeed', async () => {
  await misbehave({ failPage: { type: 'Observation', page: 2, status: 503 } });
  const p1 = await fhirGet(sb.general, 'Observation?_count=2', token);
  assert.equal(p1.status, 200);
  const next = p1.body.link.find((l) => l.relation === 'next').url;
  const p2 = await fhirGet(sb.general, next, token);
  assert.equal(p2.status, 503);
  assert.equal(p2.headers.get('retry-after'), '1');
  const retry = await fhirGet(sb.general, next, token);
  assert.equal(retry.status, 200);
  assert.equal(retry.body.entry.length, 2);
});

test('malformed: truncated JSON, or resources with a wrong resourceType', async () => {
  await misbehave({
    malformed: [
      { type: 'Condition', kind: 'truncated' },
      { type: 'Observation', kind: 'wrongType', as: 'Condition' },
    ],
  });
  const truncated = await fhirGet(sb.general, 'Condition', token);
  assert.equal(truncated.status, 200);
  assert.match(truncated.headers.get('content-type'), /application\/fhir\+json/);
  assert.throws(() => JSON.parse(truncated.text), SyntaxError);
  const wrong = await fhirGet(sb.general, 'Observation?_count=3', token);
  assert.equal(wrong.body.resourceType, 'Bundle');
  assert.deepEqual(
    wrong.body.entry.map((e) => e.resource.resourceType),
    ['Condition', 'Condition', 'Condition'],
  );
  assert.equal((await fhirGet(sb.general, 'Condition', token)).body.resourceType, 'Bundle', 'used up');
});

test('delay: answers for a type come after at least the given time', async () => {
  await misbehave({ delay: { type: 'Condition', ms: 400 } });
  const start = Date.now();
  const r = await fhirGet(sb.general, 'Condition', token);
  assert.equal(r.status, 200);
  assert.ok(Date.now() - start >= 400, 'not answered before the delay');
  assert.deepEqual((await (await fetch(knobs)).json()).delay, [{ type: 'Condition', ms: 400 }]);
});

test('dropCors: no CORS headers on FHIR, discovery and token responses', async () => {
  await misbehave({ dropCors: true });
  assert.equal((await fhirGet(sb.general, 'Condition', token)).headers.get('access-control-allow-origin'), null);
  const disc = await fetch(`${sb.general.fhirBase}/.well-known/smart-configuration`, {
    headers: { origin: APP_ORIGIN },
  });
  assert.equal(disc.headers.get('access-control-allow-origin'), null);
  const pre = await fetch(`${sb.general.issuer}/token`, {
    method: 'OPTIONS',
    headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' },
  });
  assert.equal(pre.headers.get('access-control-allow-origin'), null);
  await misbehave({ dropCors: false });
  assert.equal((await fhirGet(sb.general, 'Condition', token)).headers.get('access-control-allow-origin'), APP_ORIGIN);
});

test('down 503: every FHIR request answers 503 with Retry-After until turned off', async () => {
  await misbehave({ down: '503' });
  const r = await fhirGet(sb.general, 'Condition', token);
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('retry-after'), '1');
  assert.equal((await fetch(`${sb.general.fhirBase}/metadata`)).status, 503);
  await misbehave({ down: false });
  assert.equal((await fhirGet(sb.general, 'Condition', token)).status, 200);
});

test('down refuse: connections are refused; the admin port brings the provider back', async () => {
  await misbehave({ down: 'refuse' });
  // Kept-alive connections from before end with a socket error; new ones are refused.
  let code;
  for (let i = 0; i < 5 && code !== 'ECONNREFUSED'; i++) {
    const err = await fetch(`${sb.general.fhirBase}/metadata`).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof TypeError, 'no answer while down');
    code = err.cause?.code;
  }
  assert.equal(code, 'ECONNREFUSED');
  assert.equal((await fetch(`${sb.clinic.fhirBase}/metadata`)).status, 200, 'the other provider is up');
  await misbehave({ down: false }, `${sb.admin}/general/misbehave`);
  assert.equal((await fhirGet(sb.general, 'Condition', token)).status, 200, 'tokens survive the outage');
});

test('reset clears every knob; bad knob bodies are refused with a reason', async () => {
  await misbehave({ deny: 3, dropCors: true, fail: { type: 'Condition' }, delay: { ms: 10 } });
  const r = await adminPost(`${sb.admin}/general/reset`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.knobs, {
    deny: 0,
    fail: [],
    malformed: [],
    failPage: [],
    delay: [],
    dropCors: false,
    down: false,
  });
  for (const [body, msg] of [
    [{ nope: 1 }, /unknown field "nope"/],
    [{ fail: { status: 200 } }, /HTTP error status/],
    [{ failPage: { page: 0 } }, /page number/],
    [{ malformed: { kind: 'weird' } }, /truncated/],
    [{ down: 'sideways' }, /refuse/],
    [{ deny: -1 }, /deny/],
    ['not json', /not valid JSON/],
  ]) {
    const bad = await adminPost(knobs, body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.match(bad.body.error, msg);
  }
  assert.equal((await (await fetch(knobs)).json()).deny, 0, 'a refused body changes nothing');
});

test('knob bookkeeping: times -1 lasts until reset; the admin API is for loopback clients only', () => {
  const k = new Misbehaviour();
  k.apply({ fail: { type: 'Observation', times: -1 } });
  for (let i = 0; i < 5; i++) assert.equal(k.takeFailure('Observation', null).status, 500);
  assert.equal(k.takeFailure('Condition', null), null);
  assert.throws(() => k.apply({ fail: { times: 0 } }), KnobError);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1') && isLoopback('127.1.2.3'));
  assert.ok(!isLoopback('10.0.0.1') && !isLoopback('::ffff:192.168.1.1') && !isLoopback(undefined));
});
