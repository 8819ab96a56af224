// The importer refuses what the helper would refuse: both read one set of limits, the
// helper's (native/engine/src/limits.rs), exported into the generated protocol as LIMITS.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../helper-protocol/generated/types.js';
import { parseClientMessage } from '../helper-protocol/validate.js';
import { checkProfile } from './index.js';

const pki = (f: string) => readFileSync(new URL(`../../test/corpus/pki/${f}`, import.meta.url), 'utf8');
const BASE = `client\nremote vpn.example.com 1194\nremote-cert-tls server\n<ca>\n${pki('ca.crt')}</ca>\n`;
const messages = (issues: { message: string }[]) => issues.map((i) => i.message).join('\n');

const routes = (n: number) =>
  Array.from({ length: n }, (_, i) => `route 10.${Math.floor(i / 256) % 256}.${i % 256}.0 255.255.255.0\n`).join('');

describe('import follows the helper limits', () => {
  it('accepts a profile with exactly maxRoutes routes of every kind and refuses one more', () => {
    const quarter = LIMITS.maxRoutes / 4;
    const v6 = Array.from({ length: quarter }, (_, i) => `route-ipv6 fd00:${i.toString(16)}::/64\n`).join('');
    const excluded = Array.from({ length: quarter }, (_, i) => `route 192.168.${i % 256}.${Math.floor(i / 256)} 255.255.255.255 net_gateway\n`).join('');
    const atLimit = checkProfile(BASE + routes(LIMITS.maxRoutes / 2) + v6 + excluded);
    expect(atLimit.errors).toEqual([]);
    const over = checkProfile(BASE + routes(LIMITS.maxRoutes / 2 + 1) + v6 + excluded);
    expect(over.settings).toBeNull();
    expect(messages(over.errors)).toContain(`the profile lists ${LIMITS.maxRoutes + 1} routes; at most ${LIMITS.maxRoutes} are accepted`);
  });

  it('refuses more DNS servers or remotes than the helper takes', () => {
    const dns = (n: number) => Array.from({ length: n }, (_, i) => `dhcp-option DNS 10.0.0.${i + 1}\n`).join('');
    expect(checkProfile(BASE + dns(LIMITS.maxDnsServers)).errors).toEqual([]);
    const over = checkProfile(BASE + dns(LIMITS.maxDnsServers + 1));
    expect(messages(over.errors)).toContain(`the profile lists ${LIMITS.maxDnsServers + 1} DNS servers; at most ${LIMITS.maxDnsServers} are accepted`);
    const remotes = Array.from({ length: LIMITS.maxRemotes }, (_, i) => `remote r${i}.example.com\n`).join('');
    expect(messages(checkProfile(BASE + remotes).errors)).toContain(`the profile lists ${LIMITS.maxRemotes + 1} remote servers`);
  });
});

describe('the generated validator enforces the same bounds', () => {
  const vector = JSON.parse(
    readFileSync(new URL('../../test/vectors/helper-protocol/valid/to-connect-typical.json', import.meta.url), 'utf8'),
  ) as { message: { config: Record<string, unknown> } };

  it('names the field over its limit and never its value', () => {
    const connect = structuredClone(vector.message);
    connect.config.routes = Array.from({ length: LIMITS.maxRoutes }, () => '10.0.0.0/8');
    expect(() => parseClientMessage(connect)).not.toThrow();
    connect.config.routes = Array.from({ length: LIMITS.maxRoutes + 1 }, () => '10.0.0.0/8');
    expect(() => parseClientMessage(connect)).toThrow(`connect.config.routes: expected at most ${LIMITS.maxRoutes} element(s)`);
    const secret = structuredClone(vector.message);
    secret.config.key = `SECRET${'k'.repeat(LIMITS.maxPemChars)}`;
    expect(() => parseClientMessage(secret)).toThrow(`connect.config.key: expected at most ${LIMITS.maxPemChars} characters`);
    expect(() => parseClientMessage(secret)).not.toThrow(/SECRET/);
  });
});
