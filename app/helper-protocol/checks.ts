// The building blocks of the generated validator (generated/validators.ts): each check throws a
// ProtocolError naming the offending path, never the value, which may be a secret.

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

export type Check = (value: unknown, path: string) => void;

function fail(path: string, expected: string): never {
  throw new ProtocolError(`${path}: expected ${expected}`);
}

export const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'a boolean');
};

/** Characters as the helper counts them (Unicode code points, JSON Schema's maxLength). */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export const str =
  (minLength = 0, maxLength = Infinity): Check =>
  (v, p) => {
    if (typeof v !== 'string') fail(p, 'a string');
    if (v.length < minLength) fail(p, 'a non-empty string');
    if (v.length > maxLength && codePoints(v) > maxLength) fail(p, `at most ${maxLength} characters`);
  };

/** An integer in min..max; JSON has no u64, so the top is at most 2^53 - 1. */
export const int =
  (min: number, max: number): Check =>
  (v, p) => {
    const top = Math.min(max, Number.MAX_SAFE_INTEGER);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > top) fail(p, `an integer in ${min}..${top}`);
  };

export const oneOf =
  (...values: readonly (string | number)[]): Check =>
  (v, p) => {
    if (!values.includes(v as string | number)) fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  };

export const nullable =
  (check: Check): Check =>
  (v, p) => {
    if (v !== null) check(v, p);
  };

export const arrayOf =
  (check: Check, minItems = 0, maxItems = Infinity): Check =>
  (v, p) => {
    if (!Array.isArray(v)) fail(p, 'an array');
    if (v.length < minItems) fail(p, `at least ${minItems} element(s)`);
    if (v.length > maxItems) fail(p, `at most ${maxItems} element(s)`);
    v.forEach((item, i) => check(item, `${p}[${i}]`));
  };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object with exactly these fields: none missing, none extra. */
export const object =
  (fields: Record<string, Check>): Check =>
  (v, p) => {
    if (!isRecord(v)) fail(p, 'an object');
    for (const key of Object.keys(v)) {
      if (!Object.hasOwn(fields, key)) throw new ProtocolError(`${p}: unknown field ${JSON.stringify(key)}`);
    }
    for (const [key, check] of Object.entries(fields)) {
      if (!Object.hasOwn(v, key)) throw new ProtocolError(`${p}: missing field ${JSON.stringify(key)}`);
      check(v[key], `${p}.${key}`);
    }
  };

/**
 * A union tagged by its `type` field (serde's internally tagged enum), named `union` in errors.
 * Paths inside a variant start at the variant's tag ("connect.config.remotes[0].port").
 */
export const tagged =
  (union: string, variants: Record<string, Check>): Check =>
  (v) => {
    if (!isRecord(v)) throw new ProtocolError(`${union}: expected an object`);
    const type = v.type;
    if (typeof type !== 'string' || !Object.hasOwn(variants, type)) {
      throw new ProtocolError(`${union}: unknown type ${typeof type === 'string' ? JSON.stringify(type) : '(missing)'}`);
    }
    variants[type]!(v, type);
  };
