// A real OpenID provider for the tests (the certified `oidc-provider` package), set up the way ID-porten
// is: discovery, JWKS, authorization code flow with PKCE, the acr values idporten-loa-substantial and
// idporten-loa-high, the person's national identity number in the `pid` claim, `sid` in every ID token,
// RP-initiated logout, and front-channel logout (oidc-provider 8 dropped that draft, so this script
// renders the front-channel iframes itself, as ID-porten does, when a logout is confirmed).
//
// The login page stands in for ID-porten's choice of electronic ID: the tester types the identity number
// and picks MinID (substantial) or BankID (high). Consent is implied, as in ID-porten.
//
// For the negative tests the token endpoint can be told to spoil the next ID token it issues
// (POST /__test__/spoil with mode nonce | foreign-key | expired): it is re-signed, so only the spoiled
// part is wrong. The settings come as JSON in the environment variable PROVIDER_SETTINGS:
//   { "port": 0, "clients": [ ...client metadata... ], "jwks": {"keys": [private JWK]} (optional) }
// The script prints one line `listening <issuer>` once it serves.
//
// It also issues OAuth2 access tokens to confidential clients by the client-credentials grant (RFC 6749
// § 4.4), as a remote signing service's authorisation server does, and lets confidential clients (the
// service) introspect them (RFC 7662): tests/csc_service.py checks the portal's token that way.
import { createHash } from 'node:crypto';
import { generateKeyPair, exportJWK, importJWK, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const settings = JSON.parse(process.env.PROVIDER_SETTINGS || '{}');
const port = settings.port || 0;
const issuer = `http://127.0.0.1:${port}`;
const LEVELS = { minid: 'idporten-loa-substantial', bankid: 'idporten-loa-high' };
const METHODS = { minid: 'Minid-PIN', bankid: 'BankID' };

async function newSigningKey(kid) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

const jwks = settings.jwks || { keys: [await newSigningKey(`key-${Date.now()}`)] };
const foreignKey = await newSigningKey(jwks.keys[0].kid); // the same kid, another key: a forger's token

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><main>${body}</main></body></html>`;

const provider = new Provider(issuer, {
  clients: settings.clients || [],
  jwks,
  acrValues: Object.values(LEVELS),
  claims: { acr: null, amr: null, auth_time: null, sid: null, iss: null, openid: ['sub', 'pid', 'acr', 'amr', 'auth_time', 'sid'], profile: ['pid'] },
  conformIdTokenClaims: false, // ID-porten puts pid in the ID token itself
  scopes: ['openid', 'profile'],
  extraClientMetadata: { properties: ['frontchannel_logout_uri'] },
  pkce: { required: () => true, methods: ['S256'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (ctx, client) => client.clientAuthMethod !== 'none' },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        // ID-porten asks nothing: the logout is confirmed at once.
        const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/><button type="submit">Logg ut</button></form>');
        ctx.body = page('Logger ut', `${confirmed}<script>document.forms[0].submit()</script>`);
      },
    },
  },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  cookies: { keys: ['test-cookie-key-1'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    // sub differs per client, as in ID-porten; pid is the person.
    claims: async () => ({ sub: createHash('sha256').update(`${ctx.oidc.client?.clientId}:${id}`).digest('hex').slice(0, 43), pid: id }),
  }),
  loadExistingGrant: async (ctx) => {
    const { session, client } = ctx.oidc;
    const known = session.grantIdFor(client.clientId);
    let grant = known ? await ctx.oidc.provider.Grant.find(known) : undefined;
    if (!grant || grant.accountId !== session.accountId) {
      grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    }
    grant.addOIDCScope('openid profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Feil', `<h1>Feil</h1><pre>${escape(JSON.stringify(out))}</pre>`);
  },
});
// ID-porten sends sid with every ID token (front-channel logout needs it).
provider.Client.prototype.includeSid = () => true;

async function formBody(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

let spoil = null; // how to spoil the next ID token
const sessionsEnding = new WeakMap(); // the front-channel targets of a logout being confirmed

async function respoiled(idToken) {
  const claims = decodeJwt(idToken);
  const header = decodeProtectedHeader(idToken);
  let key = jwks.keys[0];
  if (spoil === 'nonce') claims.nonce = 'not-the-nonce-the-client-sent';
  if (spoil === 'expired') { claims.iat -= 3600; claims.exp = claims.iat + 60; claims.auth_time -= 3600; }
  if (spoil === 'foreign-key') key = foreignKey;
  return new SignJWT(claims).setProtectedHeader(header).sign(await importJWK(key, 'RS256'));
}

provider.on('end_session.success', (ctx) => {
  // Which clients the ending session had signed in to, with their sid for it.
  const { session } = ctx.oidc;
  const targets = [];
  for (const clientId of Object.keys(session.authorizations || {})) {
    targets.push({ clientId, sid: session.sidFor(clientId) });
  }
  sessionsEnding.set(ctx, targets);
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test__/spoil' && ctx.method === 'POST') {
    spoil = (await formBody(ctx)).get('mode') || null;
    ctx.body = { spoil };
    return;
  }
  const interaction = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (interaction) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction[2] && ctx.method === 'POST') {
      const form = await formBody(ctx);
      const eid = form.get('eid') in LEVELS ? form.get('eid') : 'minid';
      const pid = (form.get('pid') || '').trim();
      await provider.interactionFinished(ctx.req, ctx.res, {
        login: { accountId: pid, acr: LEVELS[eid], amr: [METHODS[eid]], remember: true },
      }, { mergeWithLastSubmission: false });
      ctx.respond = false;
      return;
    }
    const wanted = (details.params.acr_values || '').split(' ');
    const preselect = wanted.includes(LEVELS.bankid) ? 'bankid' : 'minid';
    const option = (value, label) => `<option value="${value}"${value === preselect ? ' selected' : ''}>${label}</option>`;
    ctx.type = 'html';
    ctx.body = page('Innlogging', `<h1>Logg inn (test-ID-porten)</h1>
<form method="post" action="/interaction/${escape(details.uid)}/login">
<label for="pid">Fødselsnummer</label> <input id="pid" name="pid" inputmode="numeric" autocomplete="off" required>
<label for="eid">Elektronisk ID</label> <select id="eid" name="eid">${option('minid', 'MinID')}${option('bankid', 'BankID')}</select>
<button type="submit" id="log-in">Logg inn</button></form>`);
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && spoil && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await respoiled(ctx.body.id_token) };
    spoil = null;
  }
  const targets = sessionsEnding.get(ctx);
  if (targets && ctx.status === 303) {
    // Front-channel logout: each client's frontchannel_logout_uri with iss and sid in an iframe, then on.
    const frames = [];
    for (const { clientId, sid } of targets) {
      const client = await provider.Client.find(clientId);
      const uri = client?.frontchannel_logout_uri;
      if (uri) frames.push(`<iframe title="Logg ut av ${escape(clientId)}" src="${escape(`${uri}${uri.includes('?') ? '&' : '?'}iss=${encodeURIComponent(issuer)}&sid=${encodeURIComponent(sid)}`)}"></iframe>`);
    }
    const onward = ctx.response.get('location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.remove('location');
    ctx.body = page('Logget ut', `<h1>Du er logget ut</h1>${frames.join('')}<p><a id="onward" href="${escape(onward)}">Gå videre</a></p>
<script>let left = ${frames.length}; const on = () => { if (--left <= 0) location.href = document.getElementById('onward').href; };
document.querySelectorAll('iframe').forEach((f) => f.addEventListener('load', on)); if (left === 0) on();</script>`);
  }
});

const server = provider.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  if (!port) {
    console.error('give a port: the issuer URL must name it');
    process.exit(2);
  }
  console.log(`listening ${issuer} ${actual}`);
});
