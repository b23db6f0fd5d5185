// A real OpenID Provider for crates/server/tests/oidc.rs: panva/oidc-provider (OpenID Certified),
// with one confidential client (Tandem), two users whose ID tokens carry a `groups` claim, and
// its own login and consent pages that the test fills in over plain HTTP.
//
// Environment: CLIENT_ID, CLIENT_SECRET, REDIRECT_URI (Tandem's callback). Listens on
// 127.0.0.1 on a free port and prints one JSON line, {"issuer": "http://127.0.0.1:PORT"}.
// With PUBLISH_OTHER_KEY=1 it publishes another key under the signing key's id, as a forger
// would have to: the ID tokens it signs then match no published key.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const USERS = {
  ana: { password: 'ana-password', name: 'Ana Martin', email: 'ana@example.com', groups: ['everyone', 'sre'] },
  bob: { password: 'bob-password', name: 'Bob Durand', email: 'bob@example.com', groups: ['marketing'] },
};

for (const name of ['CLIENT_ID', 'CLIENT_SECRET', 'REDIRECT_URI']) {
  if (!process.env[name]) {
    console.error(`provider.js: set ${name}`);
    process.exit(2);
  }
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!doctype html><html><head><title>${escape(title)}</title></head><body>${body}</body></html>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [{
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // PKCE for every client, so a client that skipped it would fail here.
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups'],
    },
    // Claims of the granted scopes go into the ID token, as most company providers are set up
    // to do for a groups claim.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const user = USERS[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, name: user.name, preferred_username: sub, email: user.email, groups: user.groups };
        },
      };
    },
  });
  provider.on('server_error', (ctx, err) => console.error('provider error:', err));
  const oidc = provider.callback();
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });

  server.on('request', async (req, res) => {
    if (process.env.PUBLISH_OTHER_KEY === '1' && req.url === '/jwks') {
      res.setHeader('Content-Type', 'application/jwk-set+json');
      return res.end(JSON.stringify({ keys: [{ ...other, kid: 'test-key', use: 'sig', alg: 'RS256' }] }));
    }
    const match = req.url.match(/^\/interaction\/([\w-]+)(\/(login|confirm|abort))?$/);
    if (!match) return oidc(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const { uid, prompt, params, session } = details;
      const action = match[3];
      res.setHeader('Cache-Control', 'no-store');
      if (req.method === 'GET' && !action) {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        if (prompt.name === 'login') {
          return res.end(page('Sign in', `<h1>Test IdP: sign in</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
<input name="login"><input name="password" type="password"><button>Sign in</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button>Cancel</button></form>`));
        }
        return res.end(page('Consent', `<h1>Allow ${escape(params.client_id)} to read ${escape(params.scope)}?</h1>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button>Allow</button></form>`));
      }
      if (req.method === 'POST' && action === 'login' && prompt.name === 'login') {
        const form = await readForm(req);
        const user = USERS[form.get('login')];
        if (!user || user.password !== form.get('password')) {
          res.statusCode = 401;
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          return res.end(page('Sign in', '<p>wrong user name or password</p>'));
        }
        return provider.interactionFinished(req, res, { login: { accountId: form.get('login') } },
          { mergeWithLastSubmission: false });
      }
      if (req.method === 'POST' && action === 'abort') {
        return provider.interactionFinished(req, res,
          { error: 'access_denied', error_description: 'the user cancelled the sign-in' },
          { mergeWithLastSubmission: false });
      }
      if (req.method === 'POST' && action === 'confirm' && prompt.name === 'consent') {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
        if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
        if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
        const grantId = await grant.save();
        return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      }
      res.statusCode = 400;
      return res.end(`unexpected ${req.method} for prompt ${prompt.name}`);
    } catch (err) {
      console.error('interaction error:', err);
      res.statusCode = 400;
      return res.end(String(err));
    }
  });

  console.log(JSON.stringify({ issuer }));
});
