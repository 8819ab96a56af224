// Runtime validators for IPC payloads. TypeScript types vanish at run time, and the renderer is
// untrusted from main's point of view, so every call's arguments are checked against these before
// main acts on them. Objects are closed (unknown fields are rejected) and every string and byte
// array has an upper bound. Error messages name the offending field but never echo its value:
// the value may be a password.

export class IpcValidationError extends Error {
  override readonly name = 'IpcValidationError';
}

export interface Validator<T> {
  /** Returns the value typed as T, or throws IpcValidationError naming `path`. */
  parse(value: unknown, path: string): T;
}

export type Infer<V> = V extends Validator<infer T> ? T : never;

function fail(path: string, expected: string): never {
  throw new IpcValidationError(`${path} must be ${expected}`);
}

export function string(opts: { min?: number; max: number; pattern?: RegExp }): Validator<string> {
  const min = opts.min ?? 0;
  return {
    parse(value, path) {
      if (typeof value !== 'string') fail(path, 'a string');
      if (value.length < min || value.length > opts.max) fail(path, `${min}–${opts.max} characters long`);
      if (opts.pattern && !opts.pattern.test(value)) fail(path, 'in the expected format');
      return value;
    },
  };
}

export function int(opts: { min: number; max: number }): Validator<number> {
  return {
    parse(value, path) {
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(path, 'an integer');
      if (value < opts.min || value > opts.max) fail(path, `between ${opts.min} and ${opts.max}`);
      return value;
    },
  };
}

export const boolean: Validator<boolean> = {
  parse(value, path) {
    if (typeof value !== 'boolean') fail(path, 'true or false');
    return value;
  },
};

/** A byte array. Electron's structured clone delivers Uint8Array (a Buffer is one too). */
export function bytes(opts: { max: number }): Validator<Uint8Array> {
  return {
    parse(value, path) {
      if (!(value instanceof Uint8Array)) fail(path, 'bytes');
      if (value.byteLength === 0) fail(path, 'non-empty');
      if (value.byteLength > opts.max) fail(path, `at most ${opts.max} bytes`);
      return value;
    },
  };
}

export function literal<const L extends readonly (string | number | boolean)[]>(...values: L): Validator<L[number]> {
  return {
    parse(value, path) {
      if (!values.includes(value as L[number])) fail(path, `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
      return value as L[number];
    },
  };
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return { parse: (value, path) => (value === null ? null : inner.parse(value, path)) };
}

export function array<T>(item: Validator<T>, opts: { max: number }): Validator<T[]> {
  return {
    parse(value, path) {
      if (!Array.isArray(value)) fail(path, 'a list');
      if (value.length > opts.max) fail(path, `a list of at most ${opts.max} items`);
      return value.map((v, i) => item.parse(v, `${path}[${i}]`));
    },
  };
}

type Shape = Record<string, Validator<unknown>>;
type ObjectOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A closed object: every key of `shape` is required, and no other key is allowed. */
export function object<S extends Shape>(shape: S): Validator<ObjectOf<S>> {
  return {
    parse(value, path) {
      if (!isPlainObject(value)) fail(path, 'an object');
      for (const key of Object.keys(value)) if (!Object.hasOwn(shape, key)) fail(`${path}.${key}`, 'absent (unknown field)');
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(shape)) out[key] = v.parse(value[key], `${path}.${key}`);
      return out as ObjectOf<S>;
    },
  };
}

/** A closed union of objects told apart by the string field `tag`. */
export function variant<K extends string, M extends Record<string, Shape>>(
  tag: K,
  members: M,
): Validator<{ [T in keyof M]: { [P in K]: T } & ObjectOf<M[T]> }[keyof M]> {
  return {
    parse(value, path) {
      if (!isPlainObject(value)) fail(path, 'an object');
      const t = value[tag];
      if (typeof t !== 'string' || !Object.hasOwn(members, t)) fail(`${path}.${tag}`, `one of ${Object.keys(members).join(', ')}`);
      const shape = members[t] as Shape;
      return object({ ...shape, [tag]: literal(t) }).parse(value, path) as never;
    },
  };
}

/** A fixed-length argument list. */
export function tuple<const V extends readonly Validator<unknown>[]>(...items: V): Validator<{ -readonly [I in keyof V]: Infer<V[I]> }> {
  return {
    parse(value, path) {
      if (!Array.isArray(value)) fail(path, 'a list of arguments');
      if (value.length !== items.length) fail(path, `exactly ${items.length} argument(s)`);
      return items.map((v, i) => v.parse(value[i], `${path}[${i}]`)) as never;
    },
  };
}
