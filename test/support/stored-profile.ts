// A stored Profile as the store would keep it, made by the real importer from .ovpn text, for
// tests that need what main builds from a profile (EngineConfig, views) without a store.
import { expect } from 'vitest';
import { checkProfile, DEFAULT_LEAK_PROTECTION, PROFILE_SCHEMA_VERSION, type Profile } from '../../app/profile/index.js';

export interface StoredProfile {
  profile: Profile;
  /** The secrets the importer took out of the text (the store would keep them in the SecretStore). */
  secrets: ReturnType<typeof checkProfile>['secrets'];
}

/** Imports `text` (which must import without errors) as profile `id` named `name`. */
export function storedProfile(
  text: Parameters<typeof checkProfile>[0],
  { id = 'test-profile', name = 'Test', readReference }: { id?: string; name?: string; readReference?: (p: string) => string } = {},
): StoredProfile {
  const verdict = checkProfile(text, readReference ? { readReference } : {});
  expect(verdict.errors).toEqual([]);
  const profile: Profile = {
    schemaVersion: PROFILE_SCHEMA_VERSION,
    id,
    name,
    importedAt: '2026-01-01T00:00:00.000Z',
    source: { fileName: `${id}.ovpn`, importer: 'ovpn' },
    ...verdict.settings!,
    ...DEFAULT_LEAK_PROTECTION,
  };
  return { profile, secrets: verdict.secrets };
}
