// Importing a .ovpn profile: bytes in, a verdict out. Pure (no fs, no net): file references
// are read through the injected ReadReference, so main decides what may be read.
import { decodeProfile } from './decode.js';
import { ProfileError, type ProfileIssue } from './errors.js';
import { parseDirectives, type Directive } from './lexer.js';
import type { ProfileSettings } from './model.js';
import { normalize, NO_SECRETS, type NormalizeOptions, type PassphraseNeed, type ProfileSecrets } from './normalize.js';

export { ProfileError, type ProfileIssue } from './errors.js';
export { NO_SECRETS, type DecryptKey, type PassphraseNeed, type ReadReference, type ReadPkcs12, type Pkcs12Contents, type ProfileSecrets } from './normalize.js';
export * from './model.js';

export interface ProfileVerdict {
  /** True when the profile can be imported (warnings may still be present). */
  ok: boolean;
  settings: ProfileSettings | null;
  /** Key, inline password and static keys: for the SecretStore only, never to be logged or shown. */
  secrets: ProfileSecrets;
  warnings: ProfileIssue[];
  errors: ProfileIssue[];
  /** Set when a passphrase the user could be asked for (again) would open the profile's key. */
  passphrase: PassphraseNeed | null;
}

/** Parses profile text into directives; throws ProfileError for malformed syntax. */
export function parseOvpn(input: Uint8Array | string): Directive[] {
  return parseDirectives(decodeProfile(input));
}

/** Parses and applies the import policy. Never throws for any input; problems are in `errors`. */
export function checkProfile(input: Uint8Array | string, options: NormalizeOptions = {}): ProfileVerdict {
  let directives: Directive[];
  try {
    directives = parseOvpn(input);
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    return { ok: false, settings: null, secrets: NO_SECRETS, warnings: [], errors: [e.toIssue()], passphrase: null };
  }
  const result = normalize(directives, options);
  return { ok: result.settings !== null, ...result };
}
