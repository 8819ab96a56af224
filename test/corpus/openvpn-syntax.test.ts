// Our lexer against OpenVPN's own: the same tricky lines (quotes, escapes, comments, prefixes,
// CRLF) are fed to the real openvpn 2.6 binary, whose --verb 4 settings dump shows how it parsed
// the argument, and to tokenizeLine. They must agree, and both must reject the same lines.
// openvpn stops before any network activity: it cannot prompt for auth-user-pass without a tty.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProfile } from '../../app/profile/decode.js';
import { ProfileError } from '../../app/profile/errors.js';
import { parseDirectives } from '../../app/profile/lexer.js';
import { checkProfile } from '../../app/profile/index.js';

const caFile = fileURLToPath(new URL('pki/ca.crt', import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cw-syntax-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** openvpn's --verb 4 settings dump for a config (it exits at the credentials prompt). */
function openvpnSettings(config: string): string {
  const file = join(dir, 'p.conf');
  writeFileSync(file, config);
  const r = spawnSync('openvpn', ['--config', file, '--verb', '4'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout}${r.stderr}`;
}

/** Runs openvpn on a config whose 4th line is `line`; returns its parsed verify-x509-name or its error. */
function openvpnParse(line: string): { name: string } | { error: string } {
  const out = openvpnSettings(`client\ndev null\nremote 127.0.0.1 9\n${line}\nauth-user-pass\nca ${caFile}\n`);
  const m = /verify_x509_name = '(.*)'$/m.exec(out);
  if (m && !/Options error|Options warning/.test(out)) return { name: m[1]! };
  const err = /Options (?:error|warning): .*$/m.exec(out);
  if (!err) throw new Error(`openvpn neither parsed nor rejected the line:\n${out}`);
  return { error: err[0] };
}

function ourParse(line: string): { name: string } | { error: string } {
  try {
    const d = parseDirectives(decodeProfile(`client\ndev null\nremote 127.0.0.1 9\n${line}\n`)).find((x) => x.name === 'verify-x509-name');
    return { name: d!.args[0]! };
  } catch (e) {
    if (e instanceof ProfileError) return { error: e.message };
    throw e;
  }
}

describe('quoting and escapes agree with openvpn 2.6', () => {
  it.each([
    'verify-x509-name plain name',
    'verify-x509-name "two words" name',
    "verify-x509-name 'single \\ quoted' name",
    'verify-x509-name "esc \\"q\\" and \\\\ bs" name',
    'verify-x509-name escaped\\ space name',
    'verify-x509-name hash#inside name # trailing comment',
    'verify-x509-name semi;inside name ; trailing comment',
    '--verify-x509-name dashed name',
    '\tverify-x509-name\ttabbed\tname',
    'verify-x509-name "Zürich Büro" name',
    'verify-x509-name crlf name\r',
  ])('%j', (line) => {
    const theirs = openvpnParse(line);
    expect(theirs).toHaveProperty('name');
    expect(ourParse(line)).toEqual(theirs);
  });

  it.each([
    'verify-x509-name bad\\qescape name',
    'verify-x509-name "unterminated name',
    "verify-x509-name 'unterminated name",
    'verify-x509-name C:\\path\\cert name',
  ])('both reject %j', (line) => {
    expect(openvpnParse(line)).toHaveProperty('error');
    expect(ourParse(line)).toHaveProperty('error');
  });
});

describe('the server list agrees with openvpn 2.6', () => {
  /** The "Connection profiles [i]" entries of openvpn's settings dump. */
  function openvpnRemotes(config: string) {
    const out = openvpnSettings(config);
    const entries = [...out.matchAll(/Connection profiles \[\d+\]:\n(?:.*\n)*?.* {2}proto = (\S+)\n(?:.*\n)*?.* {2}remote = '([^']*)'\n.* {2}remote_port = '(\d+)'/g)];
    expect(entries.length).toBeGreaterThan(0);
    // openvpn's proto names the address family too: udp6/tcp6-client (IPv6 only), udp4/tcp4 (IPv4 only).
    const family = (proto: string) => (proto.includes('6') ? 'ipv6' : proto.includes('4') ? 'ipv4' : 'any');
    return entries.map((m) => ({ host: m[2], port: Number(m[3]), proto: m[1]!.startsWith('tcp') ? 'tcp' : 'udp', family: family(m[1]!) }));
  }

  it.each([
    ['defaults after the remotes', 'proto tcp-client\nremote a.example.com\nremote b.example.com 1194 udp\nport 8443\n'],
    ['rport and udp6', 'rport 1195\nremote a.example.com\nremote b.example.com 443 udp6\n'],
    ['<connection> blocks win over remote lines', 'proto tcp-client\nremote a.example.com\n<connection>\nremote c.example.com\nport 443\n</connection>\n<connection>\nremote d.example.com 53 udp\n</connection>\n'],
    ['block proto after its remote', '<connection>\nremote e.example.com 1194\nproto tcp\n</connection>\n'],
  ])('%s', (_, lines) => {
    const config = `client\ndev null\n${lines}auth-user-pass\nca ${caFile}\n`;
    const inline = config.replace('dev null', 'dev tun').replace(`ca ${caFile}`, `<ca>\n${readFileSync(caFile, 'utf8')}</ca>`);
    const ours = checkProfile(inline).settings;
    expect(ours?.remotes ?? 'refused').toEqual(openvpnRemotes(config));
  });
});
