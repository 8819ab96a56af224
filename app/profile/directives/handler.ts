// The shape of a directive handler: validates a kept directive's arguments (throwing
// ProfileError for bad ones) and records its value in the normalizer's draft.
import type { BlockDefaults } from '../draft.js';
import type { Directive } from '../lexer.js';
import type { Normalizer } from '../normalize.js';

export type Handler = (this: Normalizer, dir: Directive, block: BlockDefaults | null) => void;
