// Only main/electron/ may import 'electron': everything else must run under plain Node (the CLI,
// the tests, the e2e harness), where loading the electron package tries to download a binary.
// ESLint enforces this too; this test also catches what ESLint does not lint (.cjs/.mjs scripts,
// files outside its globs, dynamic imports and require calls).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const skipDirs = new Set(['node_modules', 'dist', 'target', '.git', 'test-results', 'release', 'coverage', '.cache']);
const sourceExt = /\.(?:[cm]?[jt]sx?)$/;

/** Matches `from 'electron'`, `import 'electron'`, `import('electron')`, `require("electron/main")`. */
const electronImport = /(?:\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"`]electron(?:\/[^'"`]*)?['"`]/m;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skipDirs.has(entry.name)) yield* sourceFiles(join(dir, entry.name));
    } else if (sourceExt.test(entry.name)) {
      yield join(dir, entry.name);
    }
  }
}

describe("the 'electron' import boundary", () => {
  it('recognises every form of importing electron', () => {
    for (const yes of [
      "import { app } from 'electron';",
      'import type { BrowserWindow } from "electron";',
      "import 'electron';",
      "const e = require('electron');",
      "await import('electron/main');",
      "export { shell } from 'electron'",
    ]) {
      expect(electronImport.test(yes), yes).toBe(true);
    }
    for (const no of [
      "import x from 'electron-builder';",
      '// the electron binary',
      "import { y } from './electron-free';",
      "message: \"Only main/electron/ may import 'electron'.\"",
    ]) {
      expect(electronImport.test(no), no).toBe(false);
    }
  });

  it('holds for every source file outside main/electron/', () => {
    const offenders: string[] = [];
    let scanned = 0;
    for (const file of sourceFiles(root)) {
      const rel = relative(root, file).split(sep).join('/');
      if (rel.startsWith('main/electron/')) continue;
      scanned++;
      const text = readFileSync(file, 'utf8');
      if (electronImport.test(text)) offenders.push(rel);
    }
    expect(scanned).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });
});
