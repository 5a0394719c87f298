// oidc-provider (panva/node-oidc-provider) configured as a plain OAuth 2.0 authorization
// server for the conformance suite: authorization code with PKCE, refresh tokens, client
// credentials, revocation, introspection, short lifetimes, and login / consent pages of
// our own (plain HTML forms) that check real passwords against two seeded accounts.
//
// Environment: PORT (default 18092). Listens on 127.0.0.1 only; issuer
// http://127.0.0.1:PORT; metadata at /.well-known/openid-configuration.

import { createServer } from 'node:http';
import {
  generateKeyPairSync, randomBytes, scryptSync, timingSafeEqual,
} from 'node:crypto';

import Provider from 'oidc-provider';

const PORT = Number(process.env.PORT || 18092);
const ISSUER = `http://127.0.0.1:${PORT}`;

// --- Accounts: two users, passwords stored as scrypt hashes -------------------------

function hashPassword(password) {
  const salt = randomBytes(16);
  return { salt, hash: scryptSync(password, salt, 32) };
}

function checkPassword(stored, password) {
  const hash = scryptSync(String(password), stored.salt, 32);
  return timingSafeEqual(hash, stored.hash);
}

const ACCOUNTS = new Map([
  ['alice', { email: 'alice@example.com', name: 'Alice', secret: hashPassword('alice-correct-horse') }],
  ['bob', { email: 'bob@example.com', name: 'Bob', secret: hashPassword('bob-battery-staple') }],
]);
// A password hash to compare against when the username is unknown, so an unknown
// username costs as much as a wrong password.
const DUMMY = hashPassword(randomBytes(16).toString('hex'));

function authenticate(username, password) {
  const wanted = String(username || '').trim().toLowerCase();
  for (const [id, account] of ACCOUNTS) {
    if (account.email === wanted) {
      return checkPassword(account.secret, password) ? id : undefined;
    }
  }
  checkPassword(DUMMY, password);
  return undefined;
}

async function findAccount(_ctx, id) {
  const account = ACCOUNTS.get(id);
  if (!account) return undefined;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id, email: account.email, email_verified: true, name: account.name,
      };
    },
  };
}

// --- Clients, one per role of the conformance profile ---------------------------------

const USER_GRANTS = ['authorization_code', 'refresh_token'];
const CLIENTS = [
  {
    client_id: 'basic-client',
    client_secret: 'basic-client-secret-0123456789',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: USER_GRANTS,
    response_types: ['code'],
    redirect_uris: ['https://basic.example/callback', 'https://basic.example/other?from=seed'],
    scope: 'openid profile email',
  },
  {
    client_id: 'post-client',
    client_secret: 'post-client-secret-0123456789',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: USER_GRANTS,
    response_types: ['code'],
    redirect_uris: ['https://post.example/callback'],
    scope: 'openid profile email',
  },
  {
    // A native public client: loopback redirection URI (any port, RFC 8252 §7.3).
    client_id: 'public-client',
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    grant_types: USER_GRANTS,
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    scope: 'openid profile email',
  },
  {
    // Its secret has characters that form-urlencoding changes (RFC 6749 §2.3.1).
    client_id: 'second-client',
    client_secret: 'second:secret+with%special/chars',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: USER_GRANTS,
    response_types: ['code'],
    redirect_uris: ['https://second.example/callback'],
    scope: 'openid profile email',
  },
  {
    client_id: 'service-client',
    client_secret: 'service-client-secret-0123456789',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'email',
  },
];

// --- Provider configuration ----------------------------------------------------------

// A fresh ID Token signing key per start (RS256, the OpenID Connect default).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };

const configuration = {
  clients: CLIENTS,
  findAccount,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  features: {
    // The development interactions accept any password: ours check it.
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  // Interactions at our own pages.
  interactions: {
    url(_ctx, interaction) {
      return `/interaction/${interaction.uid}`;
    },
  },
  // A refresh token for every code grant of a client allowed the refresh_token grant,
  // not only with the OpenID Connect offline_access scope.
  issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  // Tokens outlive the login session (a plain OAuth grant has no session).
  expiresWithSession() {
    return false;
  },
  // Rotate refresh tokens on every use; reusing a rotated one revokes the grant.
  rotateRefreshToken() {
    return true;
  },
  // Short lifetimes, so the suite's expiry scenarios run.
  ttl: {
    AccessToken: 4,
    AuthorizationCode: 3,
    ClientCredentials: 4,
    IdToken: 600,
    RefreshToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
};

const provider = new Provider(ISSUER, configuration);
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

// --- Login and consent pages ---------------------------------------------------------

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

function page(res, status, title, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.end(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`);
}

function loginPage(res, uid, clientId, error) {
  const message = error ? `<p role="alert">${escapeHtml(error)}</p>` : '';
  page(res, 200, 'Sign in', `<p>Sign in to continue to ${escapeHtml(clientId)}.</p>
${message}<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Email <input type="email" name="username" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit" name="action" value="login">Sign in</button>
</form>`);
}

function consentPage(res, uid, clientId, scopes) {
  const items = scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('');
  page(res, 200, 'Authorize access', `<p>${escapeHtml(clientId)} asks for access to your account${items ? ':' : '.'}</p>
<ul>${items}</ul>
<form method="post" action="/interaction/${escapeHtml(uid)}/consent">
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function requestedScopes(details) {
  const { missingOIDCScope = [], missingResourceScopes = {} } = details.prompt.details;
  return [...new Set([...missingOIDCScope, ...Object.values(missingResourceScopes).flat()])];
}

async function interaction(req, res, uid, step) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    page(res, 400, 'Session expired', '<p>This sign-in request is no longer valid. Start again from the application.</p>');
    return;
  }
  if (details.uid !== uid) {
    page(res, 400, 'Session expired', '<p>This sign-in request is no longer valid.</p>');
    return;
  }
  const clientId = details.params.client_id;
  const prompt = details.prompt.name;

  if (req.method === 'GET' && !step) {
    if (prompt === 'login') return loginPage(res, uid, clientId);
    if (prompt === 'consent') return consentPage(res, uid, clientId, requestedScopes(details));
    return page(res, 400, 'Unsupported', '<p>Unsupported interaction.</p>');
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return page(res, 405, 'Method not allowed', '');
  }
  const form = await readForm(req);

  if (step === 'login' && prompt === 'login') {
    const accountId = authenticate(form.get('username'), form.get('password'));
    if (!accountId) return loginPage(res, uid, clientId, 'Wrong email or password.');
    return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }
  if (step === 'consent' && prompt === 'consent') {
    if (form.get('action') !== 'approve') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'the resource owner denied the request',
      }, { mergeWithLastSubmission: false });
    }
    const { session: { accountId }, grantId } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId, clientId });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    if (missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const id = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
  }
  return page(res, 400, 'Unexpected step', '<p>This step does not match the sign-in request.</p>');
}

// --- HTTP server ---------------------------------------------------------------------

const providerCallback = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|consent))?$/;

const server = createServer((req, res) => {
  // A request target that is no URL path (`//me%00`, found by `oauth2-conformance fuzz`)
  // threw here and stopped the whole process; it is the provider's to refuse.
  let path;
  try {
    path = new URL(req.url, ISSUER).pathname;
  } catch {
    providerCallback(req, res);
    return;
  }
  const m = INTERACTION.exec(path);
  if (m) {
    interaction(req, res, m[1], m[2]).catch((err) => {
      console.error('interaction error', err);
      if (!res.headersSent) page(res, 500, 'Error', '<p>Something went wrong.</p>');
      else res.end();
    });
    return;
  }
  providerCallback(req, res);
});

// Node closes idle keep-alive connections after 5 s by default, the very length of the
// suite's expiry waits: a client reusing a pooled connection just then gets a reset.
// Keep idle connections open longer than any wait of the suite.
server.keepAliveTimeout = 30_000;

server.listen(PORT, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${ISSUER}`);
});
