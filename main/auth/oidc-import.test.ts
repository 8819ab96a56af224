// `causeway import … --oidc-issuer … --oidc-client-id …` stores validated OIDC settings with the profile.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run.js';

const profileFile = join(import.meta.dirname, '..', '..', 'test', 'corpus', 'real-world', 'aws-directory-password.ovpn');
const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const home = homes[0] ?? mkdtempSync(join(tmpdir(), 'cw-oidc-import-'));
  if (!homes.length) homes.push(home);
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    env: { HOME: home, XDG_CONFIG_HOME: join(home, 'cfg'), CAUSEWAY_SECRET_STORE: 'memory' },
    cwd: home,
  });
  return { code, out, err, home };
}

function storedProfiles(home: string): Record<string, unknown>[] {
  const dir = join(home, 'cfg', 'Causeway', 'profiles');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

describe('causeway import with OIDC settings', () => {
  it('stores issuer, client id, scopes, claim and token kind with the profile', async () => {
    const r = await cli([
      'import', profileFile, '--name', 'Corp SSO',
      '--oidc-issuer', 'https://login.example.com/realms/corp', '--oidc-client-id', 'vpn-desktop',
      '--oidc-scopes', 'openid email groups', '--oidc-username-claim', 'email',
    ]);
    expect(r.code).toBe(0); // stderr holds the profile's own policy warnings
    expect(storedProfiles(r.home)[0]?.oidc).toEqual({
      issuer: 'https://login.example.com/realms/corp',
      clientId: 'vpn-desktop',
      scopes: ['openid', 'email', 'groups'],
      usernameClaim: 'email',
      token: 'id_token',
    });
  });

  it('refuses incomplete or unsafe OIDC settings with a clear message and stores nothing', async () => {
    const r = await cli(['import', profileFile, '--oidc-issuer', 'http://login.example.com', '--oidc-client-id', 'x']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/issuer must be an https URL/);
    const r2 = await cli(['import', profileFile, '--oidc-issuer', 'https://login.example.com']);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/client id \(--oidc-client-id\)/);
  });
});
