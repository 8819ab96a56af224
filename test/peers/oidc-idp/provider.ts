// A real OpenID provider for tests: oidc-provider (OpenID-certified) on 127.0.0.1 with one public
// native client ("causeway-desktop"): code + PKCE with loopback redirects on any port (RFC 8252),
// refresh tokens, device flow, revocation. Its devInteractions login form signs in whatever user
// name is typed (the password is not checked).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

export const TEST_CLIENT_ID = 'causeway-desktop';

export interface TestOidcProvider {
  issuer: string;
  close(): Promise<void>;
}

export async function startOidcProvider(options: { tokenTtlSec?: number } = {}): Promise<TestOidcProvider> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: TEST_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback'],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      },
    ],
    jwks: { keys: [privateJwk as never] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    // Put the requested scopes' claims (preferred_username, email) in the ID token itself, as
    // Keycloak, Entra ID and Okta do, so a VPN server can read the username from the token.
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, email: `${sub}@example.test`, email_verified: true, name: sub, preferred_username: sub };
        },
      };
    },
    // Access and ID tokens: 10 minutes unless a test needs them to expire while it watches.
    ttl: {
      AccessToken: options.tokenTtlSec ?? 600,
      IdToken: options.tokenTtlSec ?? 600,
      RefreshToken: 3600,
      DeviceCode: 600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
    },
    // Native clients get a refresh token without the consent-only offline_access dance.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  });
  provider.on('server_error', (_ctx, err) => console.error('[oidc-idp] server_error', err.message));
  server.on('request', provider.callback());
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
