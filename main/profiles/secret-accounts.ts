// SecretStore account names of a profile's secrets: the one list the profile store, the
// connection manager and the certificate store share.
import type { Profile } from '../../app/profile/model.js';
import type { SecretStore } from '../secrets/secret-store.js';

export const keyAccount = (profileId: string): string => `profile/${profileId}/key`;
export const passwordAccount = (profileId: string): string => `profile/${profileId}/password`;
export const usernameAccount = (profileId: string): string => `profile/${profileId}/username`;
/** The proxy's username and password, one JSON object `{ username, password }`. */
export const proxyCredentialsAccount = (profileId: string): string => `profile/${profileId}/proxy-credentials`;

export type ProxyCredentials = { username: string; password: string };

/** The proxy credentials saved at import (or remembered at connect, for a profile that asks); null when there are none or they are damaged. */
export async function readProxyCredentials(secrets: SecretStore, profile: Profile): Promise<ProxyCredentials | null> {
  if (!profile.proxy?.hasCredentials && !profile.proxy?.askCredentials) return null;
  const text = await secrets.get(proxyCredentialsAccount(profile.id));
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<ProxyCredentials>;
    return typeof v.username === 'string' && typeof v.password === 'string' ? { username: v.username, password: v.password } : null;
  } catch {
    return null;
  }
}

/** The control-channel keys: tls-auth and tls-crypt static keys, the tls-crypt-v2 client key. */
export type StaticKeyKind = 'tls-auth' | 'tls-crypt' | 'tls-crypt-v2';
export const STATIC_KEY_KINDS: readonly StaticKeyKind[] = ['tls-auth', 'tls-crypt', 'tls-crypt-v2'];
export const staticKeyAccount = (profileId: string, kind: StaticKeyKind): string => `profile/${profileId}/${kind}`;

/** A profile's static keys, by kind (null: the profile has none of that kind, or it is missing). */
export type StaticKeys = Record<StaticKeyKind, string | null>;

/** Reads the static keys the profile says it has; for the engine config, never for display. */
export async function readStaticKeys(secrets: SecretStore, profile: Profile): Promise<StaticKeys> {
  const has: StaticKeys = { 'tls-auth': null, 'tls-crypt': null, 'tls-crypt-v2': null };
  const present: Record<StaticKeyKind, boolean> = { 'tls-auth': profile.tlsAuth !== null, 'tls-crypt': profile.tlsCrypt, 'tls-crypt-v2': profile.tlsCryptV2 };
  for (const kind of STATIC_KEY_KINDS) if (present[kind]) has[kind] = await secrets.get(staticKeyAccount(profile.id, kind));
  return has;
}
