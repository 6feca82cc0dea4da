// The FHIR R4 REST endpoint (read-only): bearer token check, SMART scopes, the patient compartment,
// paging links, CORS, and the misbehaviour hooks. Reads and searches themselves are Medplum's
// (FhirRouter + MemoryRepository); this file decides who may ask what, and shapes the answer.
import express from 'express';
import { globalSchema } from '@medplum/core';
import { SHARED_TYPES } from './store.mjs';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 1000;
/** Search controls accepted besides the type's search parameters (_format/_pretty are ignored). */
const CONTROL_PARAMS = new Set([
  '_count',
  '_offset',
  '_sort',
  '_include',
  '_revinclude',
  '_summary',
  '_total',
  '_elements',
  '_format',
  '_pretty',
]);

export function operationOutcome(code, diagnostics, severity = 'error') {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

function sendJson(res, status, body) {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/** Does one of the granted scopes allow `interaction` ('r' read, 's' search) on `type`? */
export function scopeAllows(scopes, type, interaction) {
  return scopes.some((s) => {
    const m = /^(patient|user)\/(\*|[A-Za-z]+)\.(read|\*|[cruds]+)$/.exec(s);
    if (!m || (m[2] !== '*' && m[2] !== type)) return false;
    return m[3] === 'read' || m[3] === '*' || m[3].includes(interaction);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} o
 * @param {import('./store.mjs').ProviderStore} o.store
 * @param {import('oidc-provider').default} o.provider
 * @param {import('./misbehave.mjs').Misbehaviour} o.knobs
 * @param {(origin: string|undefined) => boolean} o.corsAllowed
 * @param {() => string} o.fhirBase
 * @param {() => object} o.smartConfiguration
 * @param {() => object} o.capabilityStatement
 */
export function fhirRouter({ store, provider, knobs, corsAllowed, fhirBase, smartConfiguration, capabilityStatement }) {
  const router = express.Router({ caseSensitive: true, strict: true });

  // CORS: discovery is open to any origin (SMART App Launch), everything else only to the app's origins.
  router.use((req, res, next) => {
    const open = req.path === '/.well-known/smart-configuration' || req.path === '/metadata';
    const origin = req.headers.origin;
    res.vary('Origin');
    if (!knobs.dropCors && origin && (open || corsAllowed(origin))) {
      res.set({
        'Access-Control-Allow-Origin': open ? '*' : origin,
        'Access-Control-Allow-Methods': 'GET, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Accept, Content-Type, Prefer, If-None-Match, If-Modified-Since',
        'Access-Control-Expose-Headers':
          'ETag, Last-Modified, Location, Content-Location, WWW-Authenticate, Retry-After',
        'Access-Control-Max-Age': '600',
      });
    }
    if (req.method === 'OPTIONS') return res.status(204).end();
    next();
  });

  router.use(async (req, res, next) => {
    if (knobs.down === '503') {
      res.set('Retry-After', '1');
      return sendJson(
        res,
        503,
        operationOutcome(
          'transient',
          'The FHIR server is down for maintenance (sandbox misbehaviour "down"). Try again later.',
        ),
      );
    }
    const type = /^\/([A-Z][A-Za-z]+)(?:[/?]|$)/.exec(req.path)?.[1];
    const ms = knobs.delayFor(type);
    if (ms) await sleep(ms);
    next();
  });

  router.get('/.well-known/smart-configuration', (req, res) => {
    res.type('application/json').send(JSON.stringify(smartConfiguration()));
  });
  router.get('/metadata', (req, res) => sendJson(res, 200, capabilityStatement()));

  router.use(async (req, res, next) => {
    try {
      await handle(req, res);
    } catch (err) {
      next(err);
    }
  });

  async function authenticate(req, res) {
    const token = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const at = token ? await provider.AccessToken.find(token) : undefined;
    if (!at || at.isExpired) {
      // RFC 6750: no error code when the request had no token at all.
      res.set(
        'WWW-Authenticate',
        token
          ? 'Bearer realm="fhir", error="invalid_token", error_description="the access token is invalid or expired"'
          : 'Bearer realm="fhir"',
      );
      sendJson(
        res,
        401,
        operationOutcome(
          'login',
          token
            ? 'The access token is invalid or has expired. Refresh it or sign in again.'
            : 'This request needs an access token (Authorization: Bearer ...).',
        ),
      );
      return null;
    }
    if (!store.patients.has(at.accountId)) {
      sendJson(res, 401, operationOutcome('login', 'The patient this token was issued for no longer exists.'));
      return null;
    }
    return { patient: at.accountId, scopes: (at.scope ?? '').split(' ').filter(Boolean) };
  }

  async function handle(req, res) {
    const auth = await authenticate(req, res);
    if (!auth) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET');
      return sendJson(res, 405, operationOutcome('not-supported', 'This sandbox is read-only: only GET is supported.'));
    }
    const m = /^\/([A-Z][A-Za-z]+)(?:\/([A-Za-z0-9\-.]{1,64})(?:\/(_history)(?:\/([A-Za-z0-9\-.]{1,64}))?)?)?$/.exec(
      req.path,
    );
    if (!m) {
      return sendJson(
        res,
        400,
        operationOutcome(
          'not-supported',
          `Not supported here: ${req.path}. Use [type], [type]/[id], [type]/[id]/_history[/vid].`,
        ),
      );
    }
    const [, type, id, history, vid] = m;
    if (!globalSchema.types[type]?.searchParams || type === 'Resource' || type === 'DomainResource') {
      return sendJson(res, 404, operationOutcome('not-supported', `Unknown resource type ${type}.`));
    }
    if (!store.isCompartmentType(type) && !SHARED_TYPES.has(type)) {
      return sendJson(
        res,
        403,
        operationOutcome(
          'forbidden',
          `${type} is not in the patient compartment; a patient's token can read its own records and the ${[...SHARED_TYPES].join(', ')} they refer to.`,
        ),
      );
    }
    const interaction = id ? 'r' : 's';
    if (!scopeAllows(auth.scopes, type, interaction)) {
      return sendJson(
        res,
        403,
        operationOutcome(
          'forbidden',
          `The granted scopes (${auth.scopes.join(' ')}) do not allow ${interaction === 'r' ? 'reading' : 'searching'} ${type}.`,
        ),
      );
    }
    const rawQuery = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    const search = id ? null : parseSearch(type, rawQuery);
    if (search?.error) return sendJson(res, 400, operationOutcome('invalid', search.error));

    const failure = knobs.takeFailure(type, search ? Math.floor(search.offset / Math.max(search.count, 1)) + 1 : null);
    if (failure) return sendFailure(res, failure);

    let status = 200;
    let body;
    if (search) {
      body = await runSearch(type, search, auth.patient);
      if (body.resourceType === 'OperationOutcome') status = 400;
    } else {
      const current = await store.request('GET', `/${type}/${id}`);
      if (!current.resource || !store.visibleTo(current.resource, auth.patient)) {
        return sendJson(res, 404, operationOutcome('not-found', `${type}/${id} is not known to this server.`));
      }
      if (!history) {
        body = store.present(current.resource);
      } else {
        const h = await store.request('GET', vid ? `/${type}/${id}/_history/${vid}` : `/${type}/${id}/_history`);
        if (!h.resource)
          return sendJson(res, 404, operationOutcome('not-found', `${req.path} is not known to this server.`));
        body = h.resource;
        if (body.resourceType === 'Bundle') {
          for (const e of body.entry ?? []) {
            store.present(e.resource);
            e.fullUrl = `${fhirBase()}/${type}/${id}`;
          }
        } else store.present(body);
      }
      if (body.meta?.versionId && body.resourceType === type) res.set('ETag', `W/"${body.meta.versionId}"`);
      if (body.meta?.lastUpdated && body.resourceType === type)
        res.set('Last-Modified', new Date(body.meta.lastUpdated).toUTCString());
    }

    const malformed = status === 200 ? knobs.takeMalformed(type) : null;
    if (malformed?.kind === 'truncated') {
      const text = JSON.stringify(body);
      return res
        .status(200)
        .type(FHIR_JSON)
        .send(text.slice(0, Math.floor(text.length / 2)));
    }
    if (malformed?.kind === 'wrongType') {
      if (body.resourceType === 'Bundle') for (const e of body.entry ?? []) e.resource.resourceType = malformed.as;
      else body.resourceType = malformed.as;
    }
    sendJson(res, status, body);
  }

  /** Validates the client's query; returns what Medplum should run and what the links should say. */
  function parseSearch(type, rawQuery) {
    const params = new URLSearchParams(rawQuery);
    const known = globalSchema.types[type].searchParams;
    let count = DEFAULT_PAGE_SIZE;
    let offset = 0;
    const forward = new URLSearchParams();
    for (const [name, value] of params) {
      if (name === '_count') {
        count = Number(value);
        if (!/^\d+$/.test(value) || count > MAX_PAGE_SIZE)
          return { error: `_count must be a whole number from 0 to ${MAX_PAGE_SIZE}, not "${value}".` };
        continue;
      }
      if (name === '_offset') {
        offset = Number(value);
        if (!/^\d+$/.test(value)) return { error: `_offset must be a whole number, not "${value}".` };
        continue;
      }
      if (name === '_format' || name === '_pretty') continue;
      if (name === '_sort') {
        for (const key of value.split(',')) {
          if (!known[key.replace(/^-/, '')])
            return { error: `Cannot sort ${type} by "${key}": not a search parameter of ${type}.` };
        }
      } else if (!CONTROL_PARAMS.has(name)) {
        const code = name.split(':')[0].split('.')[0];
        if (!known[code] || code === '_compartment')
          return { error: `Unknown search parameter "${name}" for ${type}.` };
      }
      forward.append(name, value);
    }
    if (params.get('_summary') === 'count') count = 0;
    return { params, forward, count, offset };
  }

  async function runSearch(type, { params, forward, count, offset }, patient) {
    const q = new URLSearchParams(forward);
    q.set('_count', String(count));
    if (offset) q.set('_offset', String(offset));
    if (store.isCompartmentType(type)) q.append('_compartment', `Patient/${patient}`);
    const { outcome, resource } = await store.request('GET', `/${type}?${q}`);
    if (!resource)
      return operationOutcome(
        outcome.issue?.[0]?.code ?? 'invalid',
        outcome.issue?.[0]?.details?.text ?? 'The search failed.',
      );
    const base = fhirBase();
    // Entries: `_include`d resources of other patients are dropped (matches are compartment-filtered already).
    resource.entry = (resource.entry ?? []).filter((e) => store.visibleTo(e.resource, patient));
    for (const e of resource.entry) {
      store.present(e.resource);
      e.fullUrl = `${base}/${e.resource.resourceType}/${e.resource.id}`;
    }
    if (!resource.entry.length) delete resource.entry;
    // Medplum's MemoryRepository gives an exact total but no paging links: add them.
    const link = (o) => {
      const p = new URLSearchParams(params);
      p.delete('_offset');
      p.set('_count', String(count));
      if (o) p.set('_offset', String(o));
      return `${base}/${type}?${p}`;
    };
    const total = resource.total ?? 0;
    const rawSelf = params.toString();
    resource.link = [{ relation: 'self', url: `${base}/${type}${rawSelf ? `?${rawSelf}` : ''}` }];
    if (count > 0) {
      resource.link.push({ relation: 'first', url: link(0) });
      if (offset > 0) resource.link.push({ relation: 'previous', url: link(Math.max(0, offset - count)) });
      if (offset + count < total) resource.link.push({ relation: 'next', url: link(offset + count) });
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link: resource.link,
      ...(resource.entry ? { entry: resource.entry } : {}),
    };
  }

  function sendFailure(res, failure) {
    if (failure.body === 'html') {
      return res
        .status(failure.status)
        .type('text/html')
        .send(`<html><body><h1>${failure.status}</h1><p>Upstream error</p></body></html>`);
    }
    if (failure.body === 'empty') return res.status(failure.status).end();
    if (failure.status === 503 || failure.status === 429) res.set('Retry-After', '1');
    return sendJson(
      res,
      failure.status,
      operationOutcome('exception', `Sandbox misbehaviour: this request fails with ${failure.status}.`),
    );
  }

  return router;
}
