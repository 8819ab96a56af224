// The AWS SAML ACS on its default address, 127.0.0.1:35001 — the port the AWS VPN Client itself
// uses, so this runs in a network namespace of its own (`unshare --net`, hence root) and never
// touches the host's port. Everywhere else tests give the listener port 0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'causeway-acs-port-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `script` (ESM, with the ACS module as ./acs.mjs) in a fresh network namespace; returns its JSON output. */
async function inOwnNetns(script: string): Promise<unknown> {
  await build({
    entryPoints: [join(import.meta.dirname, '../../main/auth/saml-acs.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: join(work, 'acs.mjs'),
    logLevel: 'silent',
  });
  writeFileSync(join(work, 'main.mjs'), script);
  const r = spawnSync('unshare', ['--net', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" main.mjs`], {
    cwd: work,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('ACS default address', () => {
  it('listens on 127.0.0.1:35001 by default, and a second listener there gets the clear error', async () => {
    const result = await inOwnNetns(`
      import { startAcsListener } from './acs.mjs';
      const acs = await startAcsListener();
      const second = await startAcsListener().then(() => null, (e) => ({ code: e.code, message: e.message }));
      const res = await fetch(acs.url, { method: 'POST', body: new URLSearchParams({ SAMLResponse: 'c2FtbA==' }) });
      const response = await acs.response;
      acs.close();
      console.log(JSON.stringify({ url: acs.url, second, status: res.status, response }));
    `);
    expect(result).toEqual({
      url: 'http://127.0.0.1:35001/',
      second: { code: 'port-busy', message: expect.stringMatching(/port 35001 on 127\.0\.0\.1 is in use/) },
      status: 200,
      response: 'c2FtbA==',
    });
  });
});
