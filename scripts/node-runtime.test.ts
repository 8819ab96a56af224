// One Node.js requirement, stated four times: package.json's engines (which .npmrc makes npm
// enforce), the version scripts/node-runtime.sh fetches (.node-version), the one .ci/run puts on
// the path before npm ci, and the README's. They must agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

const engines = JSON.parse(read('package.json')).engines.node as string;
const lockEngines = JSON.parse(read('package-lock.json')).packages[''].engines.node as string;
const fetched = read('.node-version').trim();

/** "x.y[.z]" as numbers, for comparing versions. */
function parts(version: string): number[] {
  return version.split('.').map(Number);
}

describe('the Node.js the project needs', () => {
  it('is one lower bound in engines, the same in the lockfile', () => {
    expect(engines).toMatch(/^>=\d+\.\d+$/);
    expect(lockEngines).toBe(engines);
  });

  it('is met by the version node-runtime.sh fetches, an even (long-term support) major', () => {
    expect(fetched).toMatch(/^\d+\.\d+\.\d+$/);
    const [major, minor] = parts(fetched);
    const [needMajor, needMinor] = parts(engines.slice(2));
    expect(major).toBe(needMajor);
    expect(minor).toBeGreaterThanOrEqual(needMinor);
    expect(major % 2).toBe(0);
  });

  it('is what node-runtime.sh reads, what .ci/run puts on the path before npm ci, and what npm enforces', () => {
    expect(read('scripts/node-runtime.sh')).toContain('version=$(tr -d \'[:space:]\' < .node-version)');
    const ci = read('.ci/run');
    const pathLine = ci.indexOf('PATH="$(bash scripts/node-runtime.sh):$PATH"');
    expect(pathLine).toBeGreaterThan(-1);
    expect(pathLine).toBeLessThan(ci.indexOf('npm ci'));
    expect(read('.npmrc')).toMatch(/^engine-strict=true$/m);
  });

  it('is the one the README states', () => {
    const readme = read('README.md');
    const stated = [...readme.matchAll(/Needs Node\.js ≥ (\d+\.\d+)/g)].map((m) => m[1]);
    expect(stated).toEqual([engines.slice(2)]);
  });
});
