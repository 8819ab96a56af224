// OpenID Connect sign-in for VPN profiles that present a token as the password (openid-client v6).
//
//  - Browser: authorization code + PKCE (S256) + state + nonce, redirect to a one-shot listener
//    on a random 127.0.0.1 port, the system browser (RFC 8252), never an embedded view.
//  - Device code (RFC 8628) for `causeway connect --device-code` on machines without a browser.
//  - Refresh tokens live in the SecretStore (bound to issuer + client id), so a reconnect needs no
//    browser while the refresh token is valid; `logout` revokes it at the provider and forgets it.
// Tokens never appear in errors or statuses.
import * as oidc from 'openid-client';
import type { SecretStore } from '../secrets/secret-store.js';
import type { BrowserOpener } from './browser.js';
import { startLoopbackRedirect } from './loopback-redirect.js';
import { refreshTokenAccount, type OidcSettings } from './oidc-settings.js';

export class OidcLoginError extends Error {
  override name = 'OidcLoginError';
}

export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresInSec: number;
}

export type OidcStatus =
  | { kind: 'refreshing' }
  | { kind: 'waiting-for-browser'; host: string; timeoutSec: number }
  | { kind: 'device-code'; prompt: DeviceCodePrompt };

export interface OidcLoginOptions {
  /** 'browser' (default) or the device authorization grant. */
  mode?: 'browser' | 'device';
  /** Skip the stored refresh token (e.g. the server refused the refreshed token). */
  forceInteractive?: boolean;
  signal?: AbortSignal;
  status?: (s: OidcStatus) => void;
}

export interface OidcDeps {
  secrets: SecretStore;
  opener: BrowserOpener;
  /** Electron passes net.fetch (system proxy and trust store); the CLI uses Node's fetch. */
  fetch?: oidc.CustomFetch;
  browserTimeoutMs?: number;
}

interface StoredRefreshToken {
  issuer: string;
  clientId: string;
  refreshToken: string;
}

export class OidcLogin {
  constructor(private readonly deps: OidcDeps) {}

  /** Username and password (the token) for connecting this profile now. */
  async credentials(
    profileId: string,
    settings: OidcSettings,
    options: OidcLoginOptions = {},
  ): Promise<{ username: string; password: string }> {
    const config = await this.discover(settings);
    let tokens = options.forceInteractive ? null : await this.tryRefresh(config, profileId, settings, options);
    if (!tokens) {
      tokens =
        options.mode === 'device'
          ? await this.deviceLogin(config, settings, options)
          : await this.browserLogin(config, settings, options);
    }
    await this.saveRefreshToken(profileId, settings, tokens.refresh_token);
    return this.present(config, settings, tokens);
  }

  /** Revokes the stored refresh token at the provider (best effort) and forgets it. */
  async logout(profileId: string, settings: OidcSettings | null): Promise<{ hadToken: boolean; revoked: boolean }> {
    const stored = await this.loadRefreshToken(profileId);
    if (!stored) return { hadToken: false, revoked: false };
    let revoked = false;
    try {
      const config = await this.discover(
        settings ?? { issuer: stored.issuer, clientId: stored.clientId, scopes: [], usernameClaim: 'sub', token: 'id_token' },
      );
      if (config.serverMetadata().revocation_endpoint) {
        await oidc.tokenRevocation(config, stored.refreshToken, { token_type_hint: 'refresh_token' });
        revoked = true;
      }
    } finally {
      // Forget it even when the provider is unreachable: logout must always log out locally.
      await this.deps.secrets.delete(refreshTokenAccount(profileId));
    }
    return { hadToken: true, revoked };
  }

  private async discover(settings: OidcSettings): Promise<oidc.Configuration> {
    const issuer = new URL(settings.issuer);
    try {
      return await oidc.discovery(issuer, settings.clientId, undefined, oidc.None(), {
        // parseOidcSettings allows http only for loopback issuers (local test providers).
        execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
        timeout: 15,
        ...(this.deps.fetch ? { [oidc.customFetch]: this.deps.fetch } : {}),
      });
    } catch (e) {
      throw new OidcLoginError(`Cannot reach the sign-in provider ${issuer.host}: ${describe(e)}`);
    }
  }

  private async tryRefresh(
    config: oidc.Configuration,
    profileId: string,
    settings: OidcSettings,
    options: OidcLoginOptions,
  ): Promise<TokenResponse | null> {
    const stored = await this.loadRefreshToken(profileId);
    if (!stored || stored.issuer !== settings.issuer || stored.clientId !== settings.clientId) return null;
    options.status?.({ kind: 'refreshing' });
    try {
      const tokens = await oidc.refreshTokenGrant(config, stored.refreshToken);
      // Providers that do not rotate keep the old refresh token valid.
      return tokens.refresh_token ? tokens : Object.assign(tokens, { refresh_token: stored.refreshToken });
    } catch (e) {
      if (e instanceof oidc.ResponseBodyError && e.error === 'invalid_grant') {
        // Expired or revoked: forget it and sign in again.
        await this.deps.secrets.delete(refreshTokenAccount(profileId));
        return null;
      }
      throw new OidcLoginError(`Could not renew the sign-in: ${describe(e)}`);
    }
  }

  private async browserLogin(
    config: oidc.Configuration,
    settings: OidcSettings,
    options: OidcLoginOptions,
  ): Promise<TokenResponse> {
    const timeoutMs = this.deps.browserTimeoutMs ?? 5 * 60_000;
    const listener = await startLoopbackRedirect({ timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    try {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: listener.redirectUri,
        scope: settings.scopes.join(' '),
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      await this.deps.opener.open(url.href);
      options.status?.({ kind: 'waiting-for-browser', host: url.host, timeoutSec: Math.round(timeoutMs / 1000) });
      const callback = await listener.callback;
      try {
        // Checks iss (RFC 9207), state, error responses, PKCE, and the ID token's iss/aud/exp/nonce.
        return await oidc.authorizationCodeGrant(
          config,
          callback,
          { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
          { redirect_uri: listener.redirectUri },
        );
      } catch (e) {
        throw new OidcLoginError(`The sign-in was refused: ${describe(e)}`);
      }
    } catch (e) {
      if (e instanceof OidcLoginError) throw e;
      throw new OidcLoginError(`The browser sign-in did not complete: ${describe(e)}`);
    } finally {
      listener.close();
    }
  }

  private async deviceLogin(
    config: oidc.Configuration,
    settings: OidcSettings,
    options: OidcLoginOptions,
  ): Promise<TokenResponse> {
    if (!config.serverMetadata().device_authorization_endpoint) {
      throw new OidcLoginError('This sign-in provider does not offer device-code sign-in; connect with a browser instead.');
    }
    try {
      const d = await oidc.initiateDeviceAuthorization(config, { scope: settings.scopes.join(' ') });
      options.status?.({
        kind: 'device-code',
        prompt: {
          userCode: d.user_code,
          verificationUri: d.verification_uri,
          verificationUriComplete: d.verification_uri_complete ?? null,
          expiresInSec: d.expires_in,
        },
      });
      const tokens = await oidc.pollDeviceAuthorizationGrant(config, d, undefined, options.signal ? { signal: options.signal } : {});
      if (settings.token === 'id_token' && !tokens.id_token) throw new Error('the provider returned no ID token');
      return tokens;
    } catch (e) {
      throw new OidcLoginError(`Device-code sign-in did not complete: ${describe(e)}`);
    }
  }

  private async present(
    config: oidc.Configuration,
    settings: OidcSettings,
    tokens: TokenResponse,
  ): Promise<{ username: string; password: string }> {
    const password = settings.token === 'id_token' ? tokens.id_token : tokens.access_token;
    if (!password) throw new OidcLoginError(`The sign-in provider returned no ${settings.token.replace('_', ' ')}.`);
    const claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
    if (claims[settings.usernameClaim] === undefined) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
      Object.assign(claims, info);
    }
    const username = claims[settings.usernameClaim];
    if (typeof username !== 'string' || !username) {
      throw new OidcLoginError(`The sign-in provider did not say who you are (no "${settings.usernameClaim}" claim).`);
    }
    return { username, password };
  }

  private async loadRefreshToken(profileId: string): Promise<StoredRefreshToken | null> {
    const raw = await this.deps.secrets.get(refreshTokenAccount(profileId));
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Partial<StoredRefreshToken>;
      if (typeof parsed.issuer === 'string' && typeof parsed.clientId === 'string' && typeof parsed.refreshToken === 'string') {
        return parsed as StoredRefreshToken;
      }
    } catch {
      // fall through: an unreadable entry is treated as absent
    }
    return null;
  }

  private async saveRefreshToken(profileId: string, settings: OidcSettings, refreshToken: string | undefined): Promise<void> {
    if (!refreshToken) return;
    const value: StoredRefreshToken = { issuer: settings.issuer, clientId: settings.clientId, refreshToken };
    await this.deps.secrets.set(refreshTokenAccount(profileId), JSON.stringify(value));
  }
}

type TokenResponse = Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;

/** An error's message, for users: openid-client names the failed check; tokens never appear in it. */
function describe(e: unknown): string {
  if (e instanceof oidc.AuthorizationResponseError) return `${e.error}${e.error_description ? ` (${e.error_description})` : ''}`;
  if (e instanceof oidc.ResponseBodyError) return `${e.error}${e.error_description ? ` (${e.error_description})` : ''}`;
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? e.cause.message : typeof e.cause === 'string' ? e.cause : '';
    return cause && !e.message.includes(cause) ? `${e.message} (${cause})` : e.message;
  }
  return String(e);
}
