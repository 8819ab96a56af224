// The lab PKI (test/peers/lab/make-pki.sh) in a fresh temporary folder for the tests of one
// file: made before them, removed after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createPki, type Pki } from '../peers/lab/pki.js';

export interface TempPki {
  /** The temporary folder; the PKI is in its `pki/`, the rest is the tests'. */
  readonly dir: string;
  readonly pki: Pki;
}

export function useTempPki(prefix: string): TempPki {
  const t = {} as { dir: string; pki: Pki };
  beforeAll(async () => {
    t.dir = mkdtempSync(join(tmpdir(), prefix));
    t.pki = await createPki(join(t.dir, 'pki'));
  }, 60_000);
  afterAll(() => {
    if (t.dir) rmSync(t.dir, { recursive: true, force: true });
  });
  return t;
}
