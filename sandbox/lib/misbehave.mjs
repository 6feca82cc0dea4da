// Misbehaviour knobs for tests: one set per provider, changed through the loopback-only admin API.
// The JSON accepted by POST /_sandbox/misbehave is documented in sandbox/README.md; every field is
// optional and replaces that knob only. Rules with `times` are used up one matching request at a time
// (times -1 = until reset).

export class KnobError extends Error {}

const KNOBS = ['deny', 'expireTokens', 'fail', 'malformed', 'failPage', 'delay', 'dropCors', 'down'];

const asList = (v) => (v === undefined || v === null || v === false ? [] : Array.isArray(v) ? v : [v]);

function times(v, where) {
  if (v === undefined) return 1;
  if (!Number.isInteger(v) || v < -1 || v === 0)
    throw new KnobError(`${where}.times must be a positive whole number, or -1 for "until reset"`);
  return v;
}
function type(v, where) {
  if (v === undefined) return '*';
  if (typeof v !== 'string' || !/^(\*|[A-Z][A-Za-z]+)$/.test(v))
    throw new KnobError(`${where}.type must be a resource type or "*"`);
  return v;
}
function status(v, where, fallback) {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 400 || v > 599)
    throw new KnobError(`${where}.status must be an HTTP error status (400-599)`);
  return v;
}
function only(obj, allowed, where) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new KnobError(`${where} must be a JSON object`);
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      throw new KnobError(`${where} has an unknown field "${k}" (allowed: ${allowed.join(', ')})`);
}

export class Misbehaviour {
  constructor() {
    this.reset();
  }

  reset() {
    this.deny = 0;
    this.fail = [];
    this.malformed = [];
    this.failPage = [];
    this.delay = [];
    this.dropCors = false;
    this.down = false;
  }

  /** The current knobs, as JSON. */
  snapshot() {
    const { deny, fail, malformed, failPage, delay, dropCors, down } = this;
    return { deny, fail, malformed, failPage, delay, dropCors, down };
  }

  /**
   * Validates and applies a POST /_sandbox/misbehave body. Nothing changes if any part is invalid.
   * @returns {{ expireTokens: boolean }} one-shot actions the caller must carry out
   */
  apply(body) {
    only(body, KNOBS, 'the body');
    const next = {};
    if ('deny' in body) {
      if (!Number.isInteger(body.deny) || body.deny < 0)
        throw new KnobError('deny must be the number of authorizations to deny (0 to stop)');
      next.deny = body.deny;
    }
    if ('fail' in body) {
      next.fail = asList(body.fail).map((r, i) => {
        only(r, ['type', 'status', 'times', 'body'], `fail[${i}]`);
        const b = r.body ?? 'outcome';
        if (!['outcome', 'html', 'empty'].includes(b))
          throw new KnobError(`fail[${i}].body must be "outcome", "html" or "empty"`);
        return {
          type: type(r.type, `fail[${i}]`),
          status: status(r.status, `fail[${i}]`, 500),
          times: times(r.times, `fail[${i}]`),
          body: b,
        };
      });
    }
    if ('failPage' in body) {
      next.failPage = asList(body.failPage).map((r, i) => {
        only(r, ['type', 'page', 'status', 'times'], `failPage[${i}]`);
        if (!Number.isInteger(r.page) || r.page < 1)
          throw new KnobError(`failPage[${i}].page must be a page number (1 = first page)`);
        return {
          type: type(r.type, `failPage[${i}]`),
          page: r.page,
          status: status(r.status, `failPage[${i}]`, 500),
          times: times(r.times, `failPage[${i}]`),
        };
      });
    }
    if ('malformed' in body) {
      next.malformed = asList(body.malformed).map((r, i) => {
        only(r, ['type', 'kind', 'as', 'times'], `malformed[${i}]`);
        const kind = r.kind ?? 'truncated';
        if (!['truncated', 'wrongType'].includes(kind))
          throw new KnobError(`malformed[${i}].kind must be "truncated" or "wrongType"`);
        if (r.as !== undefined && (typeof r.as !== 'string' || !r.as))
          throw new KnobError(`malformed[${i}].as must be a resource type name`);
        return {
          type: type(r.type, `malformed[${i}]`),
          kind,
          as: r.as ?? 'Basic',
          times: times(r.times, `malformed[${i}]`),
        };
      });
    }
    if ('delay' in body) {
      next.delay = asList(body.delay).map((r, i) => {
        only(r, ['ms', 'type'], `delay[${i}]`);
        if (!Number.isInteger(r.ms) || r.ms < 0 || r.ms > 120000)
          throw new KnobError(`delay[${i}].ms must be 0..120000`);
        return { type: type(r.type, `delay[${i}]`), ms: r.ms };
      });
    }
    if ('dropCors' in body) {
      if (typeof body.dropCors !== 'boolean') throw new KnobError('dropCors must be true or false');
      next.dropCors = body.dropCors;
    }
    if ('down' in body) {
      if (![false, 'refuse', '503'].includes(body.down)) throw new KnobError('down must be "refuse", "503" or false');
      next.down = body.down;
    }
    if ('expireTokens' in body && typeof body.expireTokens !== 'boolean')
      throw new KnobError('expireTokens must be true or false');
    Object.assign(this, next);
    return { expireTokens: body.expireTokens === true };
  }

  /** True (and used up) if this authorization must be denied. */
  takeDeny() {
    if (this.deny <= 0) return false;
    this.deny--;
    return true;
  }

  /** Milliseconds to wait before answering a FHIR request for `resourceType`. */
  delayFor(resourceType) {
    return this.delay.filter((d) => d.type === '*' || d.type === resourceType).reduce((a, d) => Math.max(a, d.ms), 0);
  }

  /**
   * The failure to answer with, if any (and uses it up).
   * @param {string} resourceType
   * @param {number|null} page 1-based page of a search, null for reads
   */
  takeFailure(resourceType, page) {
    const pageRule =
      page === null
        ? -1
        : this.failPage.findIndex((r) => (r.type === '*' || r.type === resourceType) && r.page === page);
    if (pageRule >= 0) return use(this.failPage, pageRule, { body: 'outcome' });
    const rule = this.fail.findIndex((r) => r.type === '*' || r.type === resourceType);
    return rule >= 0 ? use(this.fail, rule) : null;
  }

  /** The malformation to apply to a response for `resourceType`, if any (and uses it up). */
  takeMalformed(resourceType) {
    const rule = this.malformed.findIndex((r) => r.type === '*' || r.type === resourceType);
    return rule >= 0 ? use(this.malformed, rule) : null;
  }
}

function use(list, index, extra = {}) {
  const rule = list[index];
  if (rule.times > 0) {
    rule.times--;
    if (rule.times === 0) list.splice(index, 1);
  }
  return { ...rule, ...extra };
}
