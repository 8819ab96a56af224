// Normalizes a parsed profile: the Normalizer (normalizer.ts) run with every directive handler.
import { HANDLERS } from './directives/index.js';
import type { Directive } from './lexer.js';
import { Normalizer, NO_SECRETS, type NormalizeOptions, type NormalizeResult } from './normalizer.js';

export { NO_SECRETS } from './normalizer.js';
export type { DecryptKey, NormalizeOptions, NormalizeResult, PassphraseNeed, Pkcs12Contents, ProfileSecrets, ReadPkcs12, ReadReference } from './normalizer.js';

/** Applies the policy to parsed directives. Never throws for profile content (collects errors). */
export function normalize(directives: Directive[], options: NormalizeOptions = {}): NormalizeResult {
  const n = new Normalizer(options, HANDLERS);
  n.run(directives);
  const settings = n.finish();
  return {
    settings,
    secrets: settings
      ? { key: n.d.key, password: n.d.password, tlsAuth: n.d.tlsAuth?.key ?? null, tlsCrypt: n.d.tlsCrypt, tlsCryptV2: n.d.tlsCryptV2, proxyCredentials: settings.proxy?.hasCredentials ? n.d.proxyCredentials : null }
      : NO_SECRETS,
    warnings: n.warnings,
    errors: n.errors,
    passphrase: settings ? null : n.passphraseNeed,
  };
}
