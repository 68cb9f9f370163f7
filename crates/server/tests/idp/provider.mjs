// A real OpenID Connect provider for the tests: the npm package oidc-provider (installed by
// scripts/deps.sh into .cache/oidc/), on a free port of 127.0.0.1.
//
//   node provider.mjs            (NODE_PATH or the import below finds the package)
//
// Prints one JSON line when it listens: {"issuer": "http://127.0.0.1:PORT"}. Clients register
// themselves (RFC 7591 dynamic registration at /reg): each test node registers its own
// redirect URI. PKCE is required of every client. The accounts (OIDC_ACCOUNTS, JSON
// {"sub": {"claims"...}}) are the people the tests sign in as; their claims are put into the
// ID token (conformIdTokenClaims off). The login page is a minimal form of our own: pick the
// account, and login and consent are given at once.
import http from 'node:http';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(process.env.OIDC_PROVIDER_DIR + '/');
const { default: Provider } = await import(require.resolve('oidc-provider'));

const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

function jwk(type, options, kid, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: {
    keys: [
      jwk('rsa', { modulusLength: 2048 }, 'rsa-1', 'RS256'),
      jwk('ec', { namedCurve: 'P-256' }, 'ec-1', 'ES256'),
    ],
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name', 'resident_id'] },
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    const claims = accounts[sub];
    if (!claims) return undefined;
    return { accountId: sub, async claims() { return { sub, ...claims }; } };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600,
    Grant: 600,
  },
});

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function form(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    const options = Object.entries(accounts)
      .map(([sub, c]) => `<option value="${esc(sub)}">${esc(c.name ?? sub)} (${esc(sub)})</option>`)
      .join('');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1>
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Account</label> <select id="login" name="login">${options}</select>
<button type="submit" id="idp-submit">Sign in and allow</button></form></main></body></html>`);
    return;
  }
  if (action !== 'login') throw new Error('unknown action');
  const accountId = (await form(req)).get('login');
  if (!accounts[accountId]) {
    res.statusCode = 400;
    res.end('unknown account');
    return;
  }
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const m = /^\/interaction\/([^/?]+)(?:\/([a-z]+))?/.exec(req.url);
  if (!m) return callback(req, res);
  interaction(req, res, m[1], m[2]).catch((e) => {
    res.statusCode = 500;
    res.end(String(e && e.message));
  });
});

process.stdout.write(JSON.stringify({ issuer }) + '\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
