// A real OAuth 2.0 / OpenID Connect authorization server for mailsetup's tests:
// node-oidc-provider (a certified OpenID Provider implementation) on 127.0.0.1 over HTTPS
// with the test stack's certificate. Started and stopped by `scripts/mailstack` in its opt-in
// OAuth2 mode (MAILSTACK_OAUTH2=1); never reachable from outside the machine.
//
//   node server.mjs CONFIG.json
//
// CONFIG.json (written by scripts/mailstack):
//   issuer, port, cert, key, log               where it listens, TLS files, request log (JSON lines)
//   access_token_ttl, refresh_token_ttl,       lifetimes in seconds (short, so tests see expiry)
//   device_code_ttl
//   device_interval                            the polling interval advertised (RFC 8628 §3.2)
//   device_min_interval                        polls closer than this get `slow_down` (§3.5)
//   clients                                    oidc-provider client metadata
//
// What oidc-provider does itself: device authorization grant, authorization code with PKCE
// (required, S256), loopback redirect URIs on any port for native clients (RFC 8252 §7.3),
// refresh-token rotation (a reused refresh token revokes the grant), token introspection
// (RFC 7662, Dovecot validates tokens with it) and revocation (RFC 7009), the development
// login and consent pages (any login name is accepted; "abort" denies consent).
// What this file adds (oidc-provider leaves both to the deployment): the `interval` field in
// the device authorization response, and `slow_down` for polls faster than the minimum.
//
// The log never holds a token: only method, path, grant type, status and error code.

import { readFileSync, appendFileSync } from 'node:fs';
import https from 'node:https';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function log(entry) {
  appendFileSync(config.log, `${JSON.stringify({ t: Date.now(), ...entry })}\n`);
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  // Every account exists; its id is the login name typed on the login page.
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email'] },
  scopes: ['openid', 'offline_access', 'email', 'mail'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true },
  ttl: {
    AccessToken: config.access_token_ttl,
    RefreshToken: config.refresh_token_ttl,
    DeviceCode: config.device_code_ttl,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 600,
    Grant: 3600,
    IdToken: 600,
  },
  // Refresh tokens for every grant of a client that may use them; rotated on every use.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: true,
  // Loopback only; cookies need no cross-site settings.
  cookies: { keys: ['mailsetup-test-only-cookie-key'] },
});
provider.proxy = false;

// Dovecot's introspection client sends the token; say which account it belongs to.
provider.on('introspection.error', (ctx, err) => log({ event: 'introspection.error', error: err.error }));
provider.on('grant.error', (ctx, err) => log({ event: 'grant.error', error: err.error }));

const lastPoll = new Map();

provider.use(async (ctx, next) => {
  const started = Date.now();
  await next();
  const entry = { method: ctx.method, path: ctx.path, status: ctx.status };
  const params = ctx.oidc?.params;
  if (ctx.path === '/token' && params) {
    entry.grant_type = params.grant_type;
    if (params.grant_type === 'urn:ietf:params:oauth:grant-type:device_code' && params.device_code) {
      // RFC 8628 §3.5: a client polling faster than allowed gets slow_down (only while the
      // request is still pending: a granted or failed code is answered as it is).
      const key = params.device_code;
      const previous = lastPoll.get(key);
      lastPoll.set(key, started);
      const pending = ctx.status === 400 && ctx.body?.error === 'authorization_pending';
      if (pending && previous !== undefined
          && started - previous < config.device_min_interval * 1000) {
        ctx.status = 400;
        ctx.body = {
          error: 'slow_down',
          error_description: new errors.SlowDown().error_description,
        };
      }
      entry.since_last_poll_ms = previous === undefined ? null : started - previous;
    }
  }
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    ctx.body = { ...ctx.body, interval: config.device_interval };
  }
  if (ctx.body && typeof ctx.body === 'object' && typeof ctx.body.error === 'string') {
    entry.error = ctx.body.error;
  }
  if (ctx.path === '/token/introspection' && ctx.body && typeof ctx.body === 'object') {
    entry.active = ctx.body.active;
    entry.sub = ctx.body.sub;
  }
  log(entry);
});

const server = https.createServer(
  { cert: readFileSync(config.cert), key: readFileSync(config.key) },
  provider.callback(),
);
server.listen(config.port, '127.0.0.1', () => {
  log({ event: 'listening', port: config.port });
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
