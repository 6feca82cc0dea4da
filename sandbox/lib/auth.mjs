// The provider's OAuth 2 / OpenID Connect server: npm oidc-provider, configured for SMART App Launch.
// Real library behaviour: authorization code flow, PKCE (required; only S256 exists in oidc-provider 9),
// exact redirect_uri matching, single-use codes, public clients, id_token signing, refresh tokens with
// rotation and reuse detection, token introspection and revocation, CORS on the token endpoint.
// SMART glue (each piece commented below): the scope list, the required `aud` parameter, `fhirUser`
// in the id_token, `patient` in the token response, and `offline_access` without `prompt=consent`.
import Provider, { errors } from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';
import { patientName } from './store.mjs';

/** SMART permissions this read-only server grants: v2 r / s / rs, and v1 read. */
export const PERMISSIONS = ['rs', 'r', 's', 'read'];
export const BASE_SCOPES = [
  'openid',
  'fhirUser',
  'profile',
  'offline_access',
  'online_access',
  'launch',
  'launch/patient',
];

/** Every scope the server recognises; requested scopes outside this list are dropped from the grant. */
export function smartScopes(types) {
  const resourceScopes = ['patient', 'user'].flatMap((ctx) =>
    ['*', ...types].flatMap((t) => PERMISSIONS.map((p) => `${ctx}/${t}.${p}`)),
  );
  return [...BASE_SCOPES, ...resourceScopes];
}

/**
 * @param {object} o
 * @param {string} o.key provider key (cookie names)
 * @param {string} o.issuer
 * @param {string} o.fhirBase the only accepted `aud`
 * @param {string} o.clientId
 * @param {string[]} o.redirectUris
 * @param {(origin: string) => boolean} o.corsAllowed
 * @param {number} o.accessTokenTtl seconds
 * @param {import('./store.mjs').ProviderStore} o.store
 * @param {string[]} o.types resource types for per-type scopes
 */
export async function createAuthServer({
  key,
  issuer,
  fhirBase,
  clientId,
  redirectUris,
  corsAllowed,
  accessTokenTtl,
  store,
  types,
}) {
  const scopes = smartScopes(types);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: `${key}-rs256`, alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_name: clientId,
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingKey] },
    scopes,
    claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['name', 'birthdate'] },
    // SMART puts fhirUser in the id_token itself (not only at the userinfo endpoint).
    conformIdTokenClaims: false,
    extraParams: {
      launch: null,
      // SMART: `aud` is required and must be the FHIR base URL the app means to talk to.
      aud(ctx, value) {
        if (!value)
          throw new errors.InvalidRequest(`missing required parameter 'aud' (the FHIR base URL, ${fhirBase})`);
        if (value !== fhirBase) throw new errors.InvalidRequest(`aud must be this server's FHIR base URL, ${fhirBase}`);
      },
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Interaction: 30 * 60,
      Session: 24 * 3600,
      Grant: 30 * 24 * 3600,
    },
    // Every refresh returns a new refresh token; presenting a used one revokes the whole grant.
    rotateRefreshToken: () => true,
    async findAccount(ctx, id) {
      const patient = store.patients.get(id);
      if (!patient) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            fhirUser: `${fhirBase}/Patient/${id}`,
            name: patientName(patient),
            birthdate: patient.birthDate,
          };
        },
      };
    },
    // SMART launch context: with launch/patient, the access token carries the patient id...
    async extraTokenClaims(ctx, token) {
      if (token.kind === 'AccessToken' && token.scope?.split(' ').includes('launch/patient'))
        return { patient: token.accountId };
      return undefined;
    },
    clientBasedCORS: (ctx, origin) => corsAllowed(origin),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: {
      keys: [`demo-ehr-sandbox-${key}`],
      // Both providers run on the same host name: keep their cookies apart.
      names: { session: `_session_${key}`, interaction: `_interaction_${key}`, resume: `_interaction_resume_${key}` },
    },
  });

  provider.use(async (ctx, next) => {
    // The sandbox always shows its login and approval pages (predictable for tests), and this also lets
    // offline_access through: OIDC only grants it with prompt=consent, which SMART apps do not send.
    if (ctx.path === '/auth' && ctx.method === 'GET') ctx.query = { ...ctx.query, prompt: 'login consent' };
    await next();
    // ...and the token response names the patient next to the access token.
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.access_token) {
      const at = await provider.AccessToken.find(ctx.body.access_token);
      if (at?.extra?.patient) ctx.body = { ...ctx.body, patient: at.extra.patient };
    }
  });

  // Access tokens issued so far, for the "expire all tokens" knob.
  const issued = new Set();
  provider.on('access_token.saved', (token) => issued.add(token.jti)); // opaque tokens: 'saved', not 'issued'
  provider.on('access_token.destroyed', (token) => issued.delete(token.jti));

  return {
    provider,
    scopes,
    /** Destroys every access token issued so far (refresh tokens stay valid). Returns how many. */
    async expireAllAccessTokens() {
      let n = 0;
      for (const jti of [...issued]) {
        const at = await provider.AccessToken.find(jti);
        if (at) {
          await at.destroy();
          n++;
        }
        issued.delete(jti);
      }
      return n;
    },
  };
}
