// The CLI bundle (dist/cli/causeway.cjs, from scripts/build.mjs) says which Node.js it needs
// before anything else runs. (That it works on Node.js 18 is shown on Debian 12's own in
// test/packaging/deb-nspawn.test.ts.) Node.js 16 is played by overriding process.versions.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bundle = join(import.meta.dirname, '..', 'dist', 'cli', 'causeway.cjs');

function runOn(nodeVersion: string) {
  const script = `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: ${JSON.stringify(nodeVersion)} } }); require(${JSON.stringify(bundle)});`;
  return spawnSync(process.execPath, ['-e', script, 'causeway', 'help'], { encoding: 'utf8' });
}

describe('the causeway command on an old Node.js', () => {
  it('refuses with what it needs, and nothing else', () => {
    const r = runOn('16.20.2');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('causeway needs Node.js 18 or later; this is Node.js 16.20.2\n');
    expect(r.stdout).toBe('');
  });

  it('runs on 18', () => {
    const r = runOn('18.19.0');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('usage: causeway');
  });
});
