// `npm start`'s launcher (scripts/start.mjs) with Electron's runtime missing: ELECTRON_OVERRIDE_DIST_PATH
// points at an empty folder and Electron's download cache at another, so the real
// node_modules/electron/install.js runs and fetches from ELECTRON_MIRROR — a closed port, or a
// local server sending something that is not Electron.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const start = join(import.meta.dirname, 'start.mjs');
const dir = mkdtempSync(join(tmpdir(), 'causeway-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [start], {
      env: { PATH: process.env.PATH, HOME: dir, electron_config_cache: mkdtempSync(join(dir, 'cache-')), ELECTRON_GET_NO_PROGRESS: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start', () => {
  it('explains in one paragraph, without a stack trace, that the runtime is missing and how to get it', async () => {
    const r = await runStart({ ELECTRON_OVERRIDE_DIST_PATH: mkdtempSync(join(dir, 'none-')), ELECTRON_MIRROR: 'http://127.0.0.1:9/' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^causeway: the desktop app needs Electron's runtime \(Electron \d+\.\d+\.\d+ for linux-x64\)/);
    expect(r.stderr).toContain('could not be downloaded (fetch failed)');
    for (const way of ['network', 'ELECTRON_MIRROR', 'electron-v', '.zip', 'ELECTRON_OVERRIDE_DIST_PATH', 'The `causeway` command']) expect(r.stderr).toContain(way);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain('TypeError');
  });

  it('keeps the message of any other failure: a download that is not Electron fails its checksum', async () => {
    const server = createServer((_req, res) => res.end('not an Electron release'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const r = await runStart({ ELECTRON_OVERRIDE_DIST_PATH: mkdtempSync(join(dir, 'none-')), ELECTRON_MIRROR: `http://127.0.0.1:${port}/` });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/checksum/i);
      expect(r.stderr).not.toContain("needs Electron's runtime");
    } finally {
      server.close();
    }
  });

  it('runs the app on the runtime when it is there, with its exit status', async () => {
    const runtime = mkdtempSync(join(dir, 'runtime-'));
    writeFileSync(join(runtime, 'electron'), '#!/bin/sh\necho "electron $*"\nexit 7\n', { mode: 0o755 });
    const r = await runStart({ ELECTRON_OVERRIDE_DIST_PATH: runtime });
    expect(r.stdout).toContain('electron .');
    expect(r.code).toBe(7);
  });
});
