// Reference peer for bench/run.sh: panva's oidc-provider (the version pinned in package.json),
// configured to do the same work as Huren in the two benchmarked scenarios.
//
//   node server.mjs --port 8001 --mint-port 8002 --secret-cc S1 --secret-rp S2
//
// One Node process, default in-memory adapter (with a larger store, see below). It serves:
//   * the OpenID provider on 127.0.0.1:<port> (discovery, token endpoint, ...);
//   * a tiny code-minting route on 127.0.0.1:<mint-port>:
//       POST /mint?n=N&challenge=<S256 challenge>  -> N fresh authorization codes, one per line.
//     It only writes to the provider's in-memory store; it is idle while wrk runs.
//
// Same work as Huren:
//   * client_credentials (client "bench-cc", client_secret_basic, scope "api") returns an access
//     token that is a JWT signed RS256 (resource server returned by defaultResource with
//     accessTokenFormat "jwt" and jwt.sign.alg RS256);
//   * authorization_code + PKCE S256 (client "bench-rp", client_secret_basic,
//     redirect_uri http://127.0.0.1:9/cb, scope "openid") returns an RS256 JWT access token
//     (useGrantedResource -> the same resource server), an RS256 ID token and a refresh token
//     (opaque, stored), as Huren's answer has the same three.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';
// The default adapter's store is a QuickLRU of 1000 entries: the bench pre-mints thousands of
// codes, which would evict each other (and the grant). Keep the default MemoryAdapter, same code
// path, but give its store room for every pre-minted code.
import { setStorage } from 'oidc-provider/lib/adapters/memory_adapter.js';
import QuickLRU from 'quick-lru';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string' },
    'mint-port': { type: 'string' },
    'secret-cc': { type: 'string' },
    'secret-rp': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

for (const name of ['port', 'mint-port', 'secret-cc', 'secret-rp']) {
  if (!opts[name]) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
}
if (opts.host !== '127.0.0.1' && opts.host !== 'localhost') {
  console.error('this bench peer only listens on loopback');
  process.exit(2);
}

const PORT = Number(opts.port);
const MINT_PORT = Number(opts['mint-port']);
const ISSUER = `http://127.0.0.1:${PORT}`;
const RESOURCE = `${ISSUER}/api`; // the resource server (audience) of every access token
const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const ACCOUNT_ID = 'bench';
const MAX_MINT = 200000;

setStorage(new QuickLRU({ maxSize: 2000000 }));

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [
    {
      client_id: 'bench-cc',
      client_secret: opts['secret-cc'],
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'bench-rp',
      client_secret: opts['secret-rp'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      scope: 'openid',
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'api'],
  claims: { openid: ['sub'] },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
  pkce: { methods: ['S256'], required: () => true },
  // Huren's code exchange also returns a refresh token (stored server-side): do the same.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 3600,
    AuthorizationCode: 600,
    IdToken: 3600,
    RefreshToken: 14 * 86400,
    Grant: 86400,
    Interaction: 600,
    Session: 86400,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      // client_credentials carries no resource parameter: use the bench resource server.
      async defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf[0];
        return RESOURCE;
      },
      // authorization_code exchange: the code was granted for RESOURCE; issue the AT for it
      // (a JWT) rather than an opaque userinfo-only token.
      async useGrantedResource() {
        return true;
      },
      async getResourceServerInfo(ctx, resourceIndicator, client) {
        if (resourceIndicator !== RESOURCE) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          // The code-flow token carries the OIDC scope it was granted, the service token "api".
          scope: client?.clientId === 'bench-rp' ? 'openid' : 'api',
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
};

const provider = new Provider(ISSUER, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
if (process.env.BENCH_PEER_DEBUG) provider.on('grant.error', (ctx, err) => console.error('grant.error', err.error_detail || err.message));

// One long-lived grant, as a logged-in user's repeated authorizations of a trusted client share one.
let grantId;
async function ensureGrant() {
  // A reused code revokes its grant (and so every other code minted on it): start a new one then.
  if (grantId && await provider.Grant.find(grantId)) return grantId;
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: 'bench-rp' });
  grant.addOIDCScope('openid');
  grant.addResourceScope(RESOURCE, 'openid');
  grantId = await grant.save();
  return grantId;
}

async function mint(n, challenge) {
  const gid = await ensureGrant();
  const client = await provider.Client.find('bench-rp');
  const now = Math.floor(Date.now() / 1000);
  const codes = new Array(n);
  for (let i = 0; i < n; i += 1) {
    const code = new provider.AuthorizationCode({
      accountId: ACCOUNT_ID,
      authTime: now,
      client,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      expiresWithSession: false,
      grantId: gid,
      nonce: crypto.randomBytes(8).toString('base64url'),
      redirectUri: REDIRECT_URI,
      resource: RESOURCE,
      scope: 'openid',
    });
    // eslint-disable-next-line no-await-in-loop
    codes[i] = await code.save();
  }
  return codes;
}

const mintServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://127.0.0.1:${MINT_PORT}`);
    if (req.method !== 'POST' || url.pathname !== '/mint') {
      res.writeHead(404).end();
      return;
    }
    const n = Number(url.searchParams.get('n'));
    const challenge = url.searchParams.get('challenge') || '';
    if (!Number.isInteger(n) || n < 1 || n > MAX_MINT || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad n or challenge\n');
      return;
    }
    const codes = await mint(n, challenge);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${codes.join('\n')}\n`);
  } catch (err) {
    console.error(err);
    res.writeHead(500).end();
  }
});

const server = provider.listen(PORT, opts.host, () => {
  mintServer.listen(MINT_PORT, opts.host, () => {
    console.log(`peer oidc-provider ${ISSUER} (mint on 127.0.0.1:${MINT_PORT}, pid ${process.pid})`);
  });
});

function shutdown() {
  mintServer.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
