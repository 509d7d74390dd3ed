// A real OpenID Connect provider for Nabo's tests: the certified `oidc-provider` package with
// two clients, three users and a login form of its own (ADR 0017).
//
//   node oidc.mjs <redirect-uri> [--clock-offset SECONDS]
//
// Prints one JSON line when it listens: {"issuer": "http://127.0.0.1:<port>"}; runs until
// killed. In front of the provider sits a small proxy on the issuer's address that can turn
// it into a misbehaving provider, for the relay's refusals:
//
//   - `<issuer>/mixup` as issuer: its discovery document names `<issuer>/mixup`, but the ID
//     tokens say `<issuer>` (a wrong issuer in the ID token);
//   - client id `nabo-swapped` (secret `swapped-secret`): the proxy swaps it for the client
//     `other-app` at the authorization and token endpoints, so the ID token is issued to
//     another audience;
//   - `--clock-offset -7200`: the provider's clock is two hours behind, so its ID tokens
//     have expired when they arrive.
//
// Users (password `test-password` for all): anna (group nabo-central), bo (nabo-outreach),
// carl (no group), dina (nabo-central; the tests disable her in Nabo).

import http from 'node:http';
import { once } from 'node:events';

const [, , redirectUri, ...rest] = process.argv;
const offsetArg = rest.indexOf('--clock-offset');
const offset = offsetArg >= 0 ? Number(rest[offsetArg + 1]) * 1000 : 0;
if (offset) {
  const real = Date.now;
  Date.now = () => real() + offset;
}
const { default: Provider } = await import('oidc-provider');

const PASSWORD = 'test-password';
const USERS = {
  anna: { name: 'Anna Andersen', email: 'anna@idp.example', groups: ['alle', 'nabo-central'] },
  bo: { name: 'Bo Bertelsen', email: 'bo@idp.example', groups: ['alle', 'nabo-outreach'] },
  carl: { name: 'Carl Christensen', email: 'carl@idp.example', groups: ['alle'] },
  dina: { name: 'Dina Dahl', email: 'dina@idp.example', groups: ['nabo-central'] },
};

// The proxy's port is the issuer's; the provider itself listens on another.
const front = http.createServer();
front.listen(0, '127.0.0.1');
await once(front, 'listening');
const issuer = `http://127.0.0.1:${front.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'nabo', client_secret: 'nabo-secret', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] },
    { client_id: 'other-app', client_secret: 'other-secret', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] },
  ],
  async findAccount(ctx, id) {
    const u = USERS[id];
    if (!u) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: u.name, preferred_username: id, email: u.email, email_verified: true, groups: u.groups };
      },
    };
  },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'], groups: ['groups'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['nabo-test-provider-cookie-key'] },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<h1>Fejl hos udbyderen</h1><p id="fejl">${out.error}</p>`;
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
const callback = provider.callback();

function form(uid, error) {
  return `<!doctype html><html lang="da"><head><meta charset="utf-8"><title>Testudbyder</title></head><body>
<h1>Testudbyder – log ind</h1>${error ? `<p id="fejl">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Bruger <input name="login" id="login" autofocus></label>
<label>Adgangskode <input name="password" id="password" type="password"></label>
<button type="submit">Log ind</button></form></body></html>`;
}

async function body(req) {
  let s = '';
  for await (const chunk of req) s += chunk;
  return new URLSearchParams(s);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'consent') {
    // Consent is given for the user: the organisation's own application.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }
  if (action === 'login' && req.method === 'POST') {
    const f = await body(req);
    const login = f.get('login');
    if (USERS[login] && f.get('password') === PASSWORD) {
      return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(form(uid, 'Forkert bruger eller adgangskode'));
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  return res.end(form(uid));
}

// The misbehaviours: rewritten discovery for /mixup, swapped client for nabo-swapped.
function swapBasic(header) {
  if (!header?.startsWith('Basic ')) return header;
  const [id] = Buffer.from(header.slice(6), 'base64').toString().split(':');
  if (decodeURIComponent(id) !== 'nabo-swapped') return header;
  return `Basic ${Buffer.from('other-app:other-secret').toString('base64')}`;
}

front.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/mixup/.well-known/openid-configuration') {
      const doc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
      doc.issuer = `${issuer}/mixup`;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(doc));
    }
    if (url.searchParams.get('client_id') === 'nabo-swapped') {
      url.searchParams.set('client_id', 'other-app');
      req.url = url.pathname + url.search;
    }
    if (req.headers.authorization) req.headers.authorization = swapBasic(req.headers.authorization);
    const m = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
    if (m) return await interaction(req, res, m[1], m[2]);
    return callback(req, res);
  } catch (e) {
    console.error(e);
    res.writeHead(500);
    res.end(String(e));
  }
});

console.log(JSON.stringify({ issuer }));
