// The shape of a directive handler (normalizer.ts): validates a kept directive's arguments
// (throwing ProfileError for bad ones) and records its value in the normalizer's draft.
export type { DirectiveHandler as Handler } from '../normalizer.js';
