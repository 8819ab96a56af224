// The folder layout is the design (docs/ARCHITECTURE.md, "Folders and boundaries"): these tests
// keep it true. They read the production TypeScript of app/ and main/ and resolve every relative
// import, type-only imports included.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const rel = (file: string) => relative(root, file).split(sep).join('/');

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) yield path;
  }
}

const importSpec = /(?:\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The files a source file imports (relative specifiers only), as repository paths. */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(importSpec)) {
    const base = join(dirname(file), spec!).replace(/\.js$/, '');
    const found = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((p) => existsSync(p));
    if (found) out.push(rel(found));
  }
  return out;
}

const graph = new Map<string, string[]>();
for (const top of ['app', 'main']) for (const file of tsFiles(join(root, top))) graph.set(rel(file), importsOf(file));

describe('layout', () => {
  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const dep of graph.get(file) ?? []) visit(dep, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles).toEqual([]);
  });

  it('keeps in main/electron/ only what imports Electron', () => {
    const electronFree = [...graph.keys()]
      .filter((f) => f.startsWith('main/electron/'))
      .filter((f) => !/from\s*['"]electron['"]/.test(readFileSync(join(root, f), 'utf8')));
    expect(electronFree).toEqual([]);
  });

  it('lets nothing outside main/electron/ depend on it, and keeps the CLI and the desktop apart', () => {
    const wrong = [...graph.entries()].flatMap(([file, deps]) =>
      deps
        .filter(
          (dep) =>
            (dep.startsWith('main/electron/') && !file.startsWith('main/electron/')) ||
            (dep.startsWith('main/cli/') && !file.startsWith('main/cli/')) ||
            (dep.startsWith('main/desktop/') && !file.startsWith('main/desktop/') && !file.startsWith('main/electron/')),
        )
        .map((dep) => `${file} -> ${dep}`),
    );
    expect(wrong).toEqual([]);
  });
});
