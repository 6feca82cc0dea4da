// The sandbox's two interaction pages: pick the patient you are, then allow or deny the app.
// Stable ids for Playwright: #login-form, radio #patient-<id> (also [data-patient-id]), #login-submit,
// #login-cancel; #consent-form, #allow, #deny, #scope-list > li[data-scope].

const esc = (s) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f23}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 .25rem} .org{color:#555;margin:0 0 1rem}
fieldset{border:0;padding:0;margin:0 0 1rem} legend{font-weight:600;margin-bottom:.5rem}
ul{list-style:none;padding:0;margin:0} li{margin:.25rem 0}
label{cursor:pointer} .born{color:#555;font-size:.9em}
button{font:inherit;padding:.5rem 1.25rem;border-radius:6px;border:1px solid #0b5;cursor:pointer;margin-right:.5rem}
.primary{background:#0a7c3a;color:#fff;border-color:#0a7c3a} .secondary{background:#fff;color:#1b1f23;border-color:#888}
.error{background:#fde8e8;border:1px solid #c00;padding:.5rem;border-radius:4px}
.scopes li{list-style:disc;margin-left:1.25rem} .note{color:#555;font-size:.9em} form{margin-top:1rem}`;

function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/**
 * @param {{ uid: string, providerName: string, clientId: string, patients: Array<{id:string,name:string,birthDate?:string}>, error?: string }} o
 */
export function loginPage({ uid, providerName, clientId, patients, error }) {
  const items = patients
    .map(
      (
        p,
      ) => `<li><input type="radio" name="patient" id="patient-${esc(p.id)}" value="${esc(p.id)}" data-patient-id="${esc(p.id)}" data-patient-name="${esc(p.name)}" required>
<label for="patient-${esc(p.id)}">${esc(p.name)} <span class="born">born ${esc(p.birthDate ?? 'unknown')}</span></label></li>`,
    )
    .join('\n');
  return page(
    `Sign in – ${providerName}`,
    `<h1>Sign in</h1><p class="org">${esc(providerName)} patient portal (demo sandbox, synthetic patients)</p>
${error ? `<p class="error" role="alert" id="login-error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" id="login-form">
<fieldset><legend id="patient-legend">Which patient are you?</legend>
<ul aria-labelledby="patient-legend">
${items}
</ul></fieldset>
<button type="submit" class="primary" id="login-submit">Continue</button>
<button type="submit" class="secondary" id="login-cancel" name="cancel" value="1" formnovalidate>Cancel</button>
</form>
<p class="note">The app <strong>${esc(clientId)}</strong> asked to connect to your record.</p>`,
  );
}

const TYPE_WORDS = { '*': 'all your health records' };

/** Plain-language meaning of one scope. */
export function describeScope(scope) {
  const m = /^(patient|user)\/(\*|[A-Za-z]+)\.(read|[cruds]+)$/.exec(scope);
  if (m) {
    const what = TYPE_WORDS[m[2]] ?? `your ${m[2]} records`;
    const read = m[3] === 'read' || m[3].includes('r');
    const search = m[3] === 'read' || m[3].includes('s');
    return `${read && search ? 'Read and search' : read ? 'Read' : 'Search'} ${what}`;
  }
  return (
    {
      openid: 'Confirm who you are',
      fhirUser: 'Know which patient record is yours',
      profile: 'See your name',
      'launch/patient': 'Know which patient record to open',
      offline_access: 'Keep access when you are not using the app, until you revoke it',
      online_access: 'Keep access while you are using the app',
    }[scope] ?? scope
  );
}

/**
 * @param {{ uid: string, providerName: string, clientId: string, patientName: string, scopes: string[] }} o
 */
export function consentPage({ uid, providerName, clientId, patientName, scopes }) {
  const items = scopes
    .map((s) => `<li data-scope="${esc(s)}">${esc(describeScope(s))} <code>${esc(s)}</code></li>`)
    .join('\n');
  return page(
    `Allow access? – ${providerName}`,
    `<h1>Allow access?</h1><p class="org">${esc(providerName)} (demo sandbox)</p>
<p>The app <strong id="consent-client">${esc(clientId)}</strong> wants to access the record of
<strong id="consent-patient">${esc(patientName)}</strong>. It asks to:</p>
<ul class="scopes" id="scope-list">
${items}
</ul>
<form method="post" action="/interaction/${esc(uid)}/consent" id="consent-form">
<button type="submit" class="primary" id="allow" name="decision" value="allow">Allow</button>
<button type="submit" class="secondary" id="deny" name="decision" value="deny">Deny</button>
</form>`,
  );
}
