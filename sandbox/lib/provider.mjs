// One demo provider: its HTTP listener, OAuth server, FHIR endpoint, login pages and admin routes.
import http from 'node:http';
import express from 'express';
import { globalSchema } from '@medplum/core';
import { createAuthServer } from './auth.mjs';
import { fhirRouter, operationOutcome } from './fhir-api.mjs';
import { Misbehaviour, KnobError } from './misbehave.mjs';
import { loginPage, consentPage } from './pages.mjs';
import { SHARED_TYPES, patientName } from './store.mjs';

export const SMART_CAPABILITIES = [
  'launch-standalone',
  'client-public',
  'context-standalone-patient',
  'permission-patient',
  'permission-offline',
  'permission-v1',
  'permission-v2',
  'sso-openid-connect',
];

/** A loopback address (IPv4 127.0.0.0/8, IPv6 ::1, or IPv4-mapped loopback). */
export function isLoopback(address) {
  return typeof address === 'string' && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

/**
 * An HTTP listener whose handler is set later (it can listen first, to learn its port when asked for
 * port 0) and that can be taken down and brought back on the same port ("down": "refuse").
 */
export class Listener {
  constructor(label, port, bind) {
    this.label = label;
    this.port = port;
    this.bind = bind;
    this.handler = (req, res) => {
      res.statusCode = 503;
      res.setHeader('Retry-After', '1');
      res.end('starting\n');
    };
    this.server = null;
  }

  listen() {
    return new Promise((resolve, reject) => {
      const server = http.createServer((req, res) => this.handler(req, res));
      server.keepAliveTimeout = 5000;
      server.once('error', (err) => {
        if (err.code === 'EADDRINUSE') {
          reject(
            new Error(`port ${this.port} is already in use (${this.label}); stop what uses it or choose another port`),
          );
        } else reject(err);
      });
      server.listen(this.port, this.bind, () => {
        this.server = server;
        this.port = server.address().port;
        resolve(this.port);
      });
    });
  }

  /**
   * Stops accepting connections at once (new ones are refused) and closes idle ones; resolves when
   * every connection has ended. `dropConnections()` ends the busy ones too.
   */
  stopAccepting() {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    this.closing = server;
    const done = new Promise((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    return done;
  }

  dropConnections() {
    this.closing?.closeAllConnections();
  }

  close() {
    const done = this.stopAccepting();
    this.dropConnections();
    return done;
  }

  get listening() {
    return this.server !== null;
  }
}

/**
 * Builds a provider once its listener knows its port.
 * @param {object} o
 * @param {{ key: string, name: string }} o.info
 * @param {Listener} o.listener
 * @param {import('./store.mjs').ProviderStore} o.store
 * @param {ReturnType<import('./config.mjs').loadConfig>} o.config
 */
export async function createProvider({ info, listener, store, config }) {
  const origin = `http://${config.publicHost}:${listener.port}`;
  const issuer = `${origin}/oidc`;
  const fhirBase = `${origin}/fhir`;
  const knobs = new Misbehaviour();
  const corsAllowed = (o) => !knobs.dropCors && typeof o === 'string' && config.appOrigins.includes(o);
  const types = [...new Set([...store.typeCounts.keys(), ...SHARED_TYPES])].sort();
  const auth = await createAuthServer({
    key: info.key,
    issuer,
    fhirBase,
    clientId: config.clientId,
    redirectUris: config.redirectUris,
    corsAllowed,
    accessTokenTtl: config.accessTokenTtl,
    store,
    types,
  });
  const { provider } = auth;

  const smartConfiguration = () => ({
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    introspection_endpoint: `${issuer}/token/introspection`,
    revocation_endpoint: `${issuer}/token/revocation`,
    userinfo_endpoint: `${issuer}/me`,
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [
      'openid',
      'fhirUser',
      'profile',
      'launch/patient',
      'offline_access',
      'online_access',
      'patient/*.rs',
      'patient/*.read',
      'user/*.rs',
      'user/*.read',
    ],
    capabilities: SMART_CAPABILITIES,
  });

  const capabilityStatement = () => ({
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-01-01',
    publisher: 'PHR project demo EHR sandbox',
    kind: 'instance',
    software: { name: 'Demo EHR sandbox (oidc-provider + Medplum MemoryRepository)' },
    implementation: { description: info.name, url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: true,
          service: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
              ],
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'authorize', valueUri: `${issuer}/auth` },
                { url: 'token', valueUri: `${issuer}/token` },
                { url: 'revoke', valueUri: `${issuer}/token/revocation` },
                { url: 'introspect', valueUri: `${issuer}/token/introspection` },
              ],
            },
          ],
        },
        resource: types.map((type) => ({
          type,
          interaction: [{ code: 'read' }, { code: 'vread' }, { code: 'history-instance' }, { code: 'search-type' }],
          searchParam: Object.values(globalSchema.types[type]?.searchParams ?? {})
            .filter((sp) => sp.code !== '_compartment')
            .map((sp) => ({ name: sp.code, type: sp.type, ...(sp.url ? { definition: sp.url } : {}) }))
            .sort((a, b) => a.name.localeCompare(b.name)),
        })),
      },
    ],
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/', (req, res) => {
    res
      .type('text/plain')
      .send(
        `${info.name} (demo EHR sandbox)\nFHIR base: ${fhirBase}\nSMART configuration: ${fhirBase}/.well-known/smart-configuration\nIssuer: ${issuer}\nClient id: ${config.clientId}\nRedirect URIs: ${config.redirectUris.join(' ')}\n`,
      );
  });

  // Admin API (loopback only).
  app.use('/_sandbox', adminRouter({ info, store, knobs, auth, listener, urls: { issuer, fhirBase } }));

  // CORS preflight for the OAuth endpoints, answered here so that only the app's origins get a yes
  // (oidc-provider answers every preflight; its actual responses do check clientBasedCORS).
  app.options(/^\/oidc\/.*/, (req, res) => {
    const o = req.headers.origin;
    res.vary('Origin');
    if (corsAllowed(o)) {
      res.set({
        'Access-Control-Allow-Origin': o,
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept',
        'Access-Control-Max-Age': '600',
      });
    }
    res.status(204).end();
  });

  // The interaction pages.
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const patientsForLogin = () =>
    [...store.patients.values()]
      .map((p) => ({ id: p.id, name: patientName(p), birthDate: p.birthDate }))
      .sort((a, b) => a.name.localeCompare(b.name));
  const deny = (req, res, description) =>
    provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: description },
      { mergeWithLastSubmission: false },
    );

  app.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (knobs.takeDeny()) return await deny(req, res, 'The patient denied access (sandbox misbehaviour "deny").');
      res.set('Cache-Control', 'no-store');
      if (details.prompt.name === 'login') {
        return res
          .type('html')
          .send(
            loginPage({
              uid: details.uid,
              providerName: info.name,
              clientId: details.params.client_id,
              patients: patientsForLogin(),
            }),
          );
      }
      if (details.prompt.name === 'consent') {
        const patient = store.patients.get(details.session?.accountId);
        const scopes = String(details.params.scope ?? '')
          .split(' ')
          .filter((s) => auth.scopes.includes(s));
        return res
          .type('html')
          .send(
            consentPage({
              uid: details.uid,
              providerName: info.name,
              clientId: details.params.client_id,
              patientName: patient ? patientName(patient) : details.session?.accountId,
              scopes,
            }),
          );
      }
      return res.status(400).type('text/plain').send(`unexpected interaction prompt ${details.prompt.name}`);
    } catch (err) {
      next(err);
    }
  });

  app.post('/interaction/:uid/login', form, async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.body?.cancel) return await deny(req, res, 'The patient cancelled the sign-in.');
      const id = String(req.body?.patient ?? '');
      if (!store.patients.has(id)) {
        return res
          .status(400)
          .type('html')
          .send(
            loginPage({
              uid: details.uid,
              providerName: info.name,
              clientId: details.params.client_id,
              patients: patientsForLogin(),
              error: 'Choose one of the patients below.',
            }),
          );
      }
      await provider.interactionFinished(req, res, { login: { accountId: id } }, { mergeWithLastSubmission: false });
    } catch (err) {
      next(err);
    }
  });

  app.post('/interaction/:uid/consent', form, async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.body?.decision !== 'allow') return await deny(req, res, 'The patient denied access.');
      const { prompt, params, session } = details;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      // Forced prompt=consent: the scopes may all be granted already; grant what was asked either way.
      grant.addOIDCScope(
        String(params.scope ?? '')
          .split(' ')
          .filter((s) => auth.scopes.includes(s))
          .join(' '),
      );
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      next(err);
    }
  });

  app.use('/oidc', provider.callback());
  app.use(
    '/fhir',
    fhirRouter({
      store,
      provider,
      knobs,
      corsAllowed,
      fhirBase: () => fhirBase,
      smartConfiguration,
      capabilityStatement,
    }),
  );

  app.use((req, res) => res.status(404).type('text/plain').send(`Not found: ${req.path}\n`));
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    const status = err.statusCode ?? err.status ?? 500;
    if (status >= 500) console.error(`[${info.key}] ${req.method} ${req.originalUrl}:`, err);
    if (res.headersSent) return;
    if (req.path.startsWith('/fhir')) {
      res
        .status(status)
        .type('application/fhir+json')
        .send(JSON.stringify(operationOutcome('exception', err.message)));
    } else {
      res
        .status(status)
        .type('text/plain')
        .send(`${err.error ?? 'error'}: ${err.error_description ?? err.message}\n`);
    }
  });

  listener.handler = app;
  return { info, store, knobs, auth, listener, urls: { origin, issuer, fhirBase } };
}

/** Routes under /_sandbox for one provider (also mounted at /_sandbox/<key> on the admin port). */
export function adminRouter(p) {
  const router = express.Router();
  router.use((req, res, next) => {
    if (!isLoopback(req.socket.remoteAddress))
      return res.status(403).json({ error: 'the sandbox admin API only answers loopback clients' });
    next();
  });
  const body = express.text({ type: () => true, limit: '20mb' });
  const json = (req) => {
    if (!req.body) return {};
    try {
      return JSON.parse(req.body);
    } catch {
      throw new KnobError('the body is not valid JSON');
    }
  };
  const wrap = (fn) => async (req, res) => {
    try {
      await fn(req, res);
    } catch (err) {
      res.status(err instanceof KnobError ? 400 : 500).json({ error: err.message });
    }
  };

  router.get('/ready', (req, res) => res.json({ ready: true, provider: p.info.key }));
  router.get('/info', (req, res) => res.json({ key: p.info.key, name: p.info.name, ...p.urls }));
  router.get(
    '/patients',
    wrap(async (req, res) => res.json(await p.store.patientList())),
  );
  router.get(
    '/counts',
    wrap(async (req, res) => {
      const patient = String(req.query.patient ?? '');
      if (!patient) return res.status(400).json({ error: 'give the patient id: /_sandbox/counts?patient=<id>' });
      if (!p.store.patients.has(patient))
        return res.status(404).json({ error: `no patient ${patient} at ${p.info.name}` });
      res.json({ provider: p.info.key, patient, ...(await p.store.counts(patient)) });
    }),
  );
  router.get('/misbehave', (req, res) => res.json(p.knobs.snapshot()));
  router.post(
    '/misbehave',
    body,
    wrap(async (req, res) => {
      const { expireTokens } = p.knobs.apply(json(req));
      const expired = expireTokens ? await p.auth.expireAllAccessTokens() : 0;
      await applyDown(p, res, () =>
        res.json({ knobs: p.knobs.snapshot(), ...(expireTokens ? { expiredAccessTokens: expired } : {}) }),
      );
    }),
  );
  router.post(
    '/reset',
    wrap(async (req, res) => {
      p.knobs.reset();
      await p.store.reset();
      await applyDown(p, res, () => res.json({ knobs: p.knobs.snapshot() }));
    }),
  );
  router.post(
    '/resources',
    body,
    wrap(async (req, res) => {
      let stored;
      try {
        stored = await p.store.upsert(req.body ?? '');
      } catch (err) {
        throw new KnobError(err.message);
      }
      res
        .status(201)
        .json({
          resourceType: stored.resourceType,
          id: stored.id,
          versionId: stored.meta.versionId,
          lastUpdated: stored.meta.lastUpdated,
        });
    }),
  );
  return router;
}

/**
 * Brings the provider's listener down or up to match the "down" knob, and sends the answer. Going
 * down, the port stops accepting before the answer leaves, so the caller's next request is refused;
 * the connection carrying the answer (maybe on that very port) is dropped once it is sent.
 */
async function applyDown(p, res, answer) {
  const want = p.knobs.down !== 'refuse';
  if (want === p.listener.listening) return answer();
  if (want) {
    await p.listener.listen();
    return answer();
  }
  const closed = p.listener.stopAccepting();
  res.on('finish', () => p.listener.dropConnections());
  answer();
  await closed;
}
