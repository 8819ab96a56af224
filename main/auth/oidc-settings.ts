// A profile's OpenID Connect settings: which provider to sign in with, and how the resulting
// token is presented to the VPN server (as the password, with a username taken from a claim).
// Pure: no I/O, so the profile importer and the app's settings view can validate with it.

import type { ProfileOidc } from '../../app/profile/model.js';

/** Stored with the profile (Profile.oidc). */
export type OidcSettings = ProfileOidc;

export const DEFAULT_OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

export class OidcSettingsError extends Error {
  override name = 'OidcSettingsError';
}

export interface OidcSettingsInput {
  issuer?: string | undefined;
  clientId?: string | undefined;
  /** Space- or comma-separated, or a list. */
  scopes?: string | string[] | undefined;
  usernameClaim?: string | undefined;
  token?: string | undefined;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

/** Validates and completes user input (e.g. `causeway import --oidc-issuer … --oidc-client-id …`). */
export function parseOidcSettings(input: OidcSettingsInput): OidcSettings {
  const issuerText = input.issuer?.trim();
  if (!issuerText) throw new OidcSettingsError('OIDC needs an issuer URL (--oidc-issuer).');
  let issuer: URL;
  try {
    issuer = new URL(issuerText);
  } catch {
    throw new OidcSettingsError(`The OIDC issuer "${issuerText}" is not a URL.`);
  }
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && LOOPBACK.test(issuer.hostname))) {
    throw new OidcSettingsError('The OIDC issuer must be an https URL (http is allowed only on this computer).');
  }
  if (issuer.search || issuer.hash) throw new OidcSettingsError('The OIDC issuer URL must not have a query or fragment.');
  const clientId = input.clientId?.trim();
  if (!clientId) throw new OidcSettingsError('OIDC needs a client id (--oidc-client-id).');
  if ([...clientId].some((c) => c <= ' ' || c === '\x7f')) throw new OidcSettingsError('The OIDC client id must not contain spaces or control characters.');

  const rawScopes = Array.isArray(input.scopes) ? input.scopes : (input.scopes ?? '').split(/[\s,]+/);
  const scopes = [...new Set(rawScopes.map((s) => s.trim()).filter(Boolean))];
  const finalScopes = scopes.length ? scopes : [...DEFAULT_OIDC_SCOPES];
  if (!finalScopes.includes('openid')) finalScopes.unshift('openid');
  if (finalScopes.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new OidcSettingsError('OIDC scopes may contain only printable characters without quotes or backslashes.');
  }

  const usernameClaim = input.usernameClaim?.trim() || 'sub';
  if (!/^[A-Za-z0-9_.:-]+$/.test(usernameClaim)) throw new OidcSettingsError(`"${usernameClaim}" is not a claim name.`);
  const token = input.token?.trim() || 'id_token';
  if (token !== 'id_token' && token !== 'access_token') {
    throw new OidcSettingsError('The token presented to the VPN server must be id_token or access_token.');
  }
  // Keep the issuer exactly as given (minus trailing spaces): discovery compares it verbatim.
  return { issuer: issuerText, clientId, scopes: finalScopes, usernameClaim, token };
}

/** The SecretStore account holding a profile's refresh token. */
export function refreshTokenAccount(profileId: string): string {
  return `profile/${profileId}/oidc-refresh-token`;
}
