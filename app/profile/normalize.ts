// Normalizes a parsed profile: the Normalizer (normalizer.ts) run with every directive handler.
import { HANDLERS } from './directives/index.js';
import type { Directive } from './lexer.js';
import { Normalizer, type NormalizeOptions, type NormalizeResult } from './normalizer.js';

export type { NormalizeOptions, NormalizeResult, Pkcs12Contents, ProfileSecrets, ReadPkcs12, ReadReference } from './normalizer.js';

/** Applies the policy to parsed directives. Never throws for profile content (collects errors). */
export function normalize(directives: Directive[], options: NormalizeOptions = {}): NormalizeResult {
  const n = new Normalizer(options, HANDLERS);
  n.run(directives);
  const settings = n.finish();
  return {
    settings,
    secrets: settings ? { key: n.d.key, password: n.d.password } : { key: null, password: null },
    warnings: n.warnings,
    errors: n.errors,
  };
}
