import { describe, expect, it } from 'vitest';
import { useTempPki } from '../../test/support/temp-pki.js';
import type { Profile } from '../../app/profile/index.js';
import { storedProfile } from '../../test/support/stored-profile.js';
import { parseClientMessage } from '../../app/helper-protocol/validate.js';
import { buildEngineConfig, ProfileUnusableError } from './engine-config.js';
import type { StaticKeys } from '../profiles/secret-accounts.js';

const noStaticKeys: StaticKeys = { 'tls-auth': null, 'tls-crypt': null, 'tls-crypt-v2': null };

const t = useTempPki('cw-engine-config-');

/** A stored Profile made by the real importer from .ovpn text. */
function profileFrom(text: string, readReference?: (p: string) => string) {
  const { profile, secrets } = storedProfile(text, { readReference });
  const { tlsAuth, tlsCrypt, tlsCryptV2 } = secrets;
  const staticKeys: StaticKeys = { 'tls-auth': tlsAuth, 'tls-crypt': tlsCrypt, 'tls-crypt-v2': tlsCryptV2 };
  return { profile, key: secrets.key, staticKeys, proxyCredentials: secrets.proxyCredentials };
}

const options = { killSwitch: false, allowLan: true, guiVersion: 'causeway 0.1.0' };

describe('buildEngineConfig', () => {
  it('carries a certificate profile field by field, with the key from the keyring', () => {
    const { profile, key, staticKeys } = profileFrom(`client
dev tun
proto udp
remote vpn1.example.test 1194
remote vpn2.example.test 443 tcp
remote-random
remote-cert-tls server
verify-x509-name server name
data-ciphers AES-128-GCM:CHACHA20-POLY1305
tls-version-min 1.2
keepalive 10 60
route 10.50.0.0 255.255.0.0
redirect-gateway def1
<ca>
${t.pki.ca}</ca>
<cert>
${t.pki.clientEc.cert}</cert>
<key>
${t.pki.clientEc.key}</key>
<tls-crypt>
${t.pki.tlsCryptKey}</tls-crypt>
`);
    expect(key).toContain('PRIVATE KEY');
    const config = buildEngineConfig(profile, { key, credentials: null, staticKeys, proxyCredentials: null }, options);
    expect(config.remotes).toEqual([
      { host: 'vpn1.example.test', port: 1194, proto: 'udp', family: 'any' },
      { host: 'vpn2.example.test', port: 443, proto: 'tcp', family: 'any' },
    ]);
    expect(config).toMatchObject({
      remoteRandom: true,
      ca: profile.ca,
      cert: profile.cert,
      key,
      tlsCrypt: staticKeys['tls-crypt'],
      tlsAuth: null,
      dataCiphers: ['AES-128-GCM', 'CHACHA20-POLY1305'],
      remoteCertTls: 'server',
      verifyX509Name: { name: 'server', type: 'name' },
      authUserPass: false,
      credentials: null,
      keepalive: { intervalSec: 10, timeoutSec: 60 },
      routes: ['10.50.0.0/16'],
      redirectGateway: true,
      // No mssfix line: OpenVPN's default clamp.
      mssfix: { max: 1492, mode: 'mtu' },
      guiVersion: 'causeway 0.1.0',
    });
    // What we build is exactly what the protocol accepts (no paths, no unknown fields).
    expect(() => parseClientMessage({ type: 'connect', session: 's', config })).not.toThrow();
    expect(JSON.stringify(config)).not.toMatch(/\.ovpn|\/tmp\//);
  });

  it('carries CBC ciphers, the fallback and the auth digest, and reads a profile stored before the fallback existed', () => {
    const text = `client\nremote vpn.example.test 1194\ncipher AES-128-CBC\ndata-ciphers-fallback AES-256-CBC\nauth SHA512\n<ca>\n${t.pki.ca}</ca>\nauth-user-pass\n`;
    const build = (profile: Profile) => buildEngineConfig(profile, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, options);
    const { profile } = profileFrom(text);
    const config = build(profile);
    expect(config).toMatchObject({
      dataCiphers: ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305', 'AES-128-CBC'],
      dataCiphersFallback: 'AES-256-CBC',
      authDigest: 'SHA512',
    });
    expect(() => parseClientMessage({ type: 'connect', session: 's', config })).not.toThrow();
    const { dataCiphersFallback: _, ...older } = profile;
    expect(build(older).dataCiphersFallback).toBeNull();
  });

  it("carries the profile's redirect-gateway ipv6, and its block-local takes the LAN away whatever allowLan says", () => {
    const build = (flags: string, allowLan: boolean) => {
      const { profile } = profileFrom(`client\nremote vpn.example.test 1194\nredirect-gateway ${flags}\n<ca>\n${t.pki.ca}</ca>\nauth-user-pass\n`);
      const config = buildEngineConfig(profile, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, { ...options, allowLan });
      return { v4: config.redirectGateway, v6: config.redirectGatewayIpv6, allowLan: config.allowLan };
    };
    expect(build('def1', true)).toEqual({ v4: true, v6: false, allowLan: true });
    expect(build('def1 ipv6', true)).toEqual({ v4: true, v6: true, allowLan: true });
    expect(build('ipv6 !ipv4', true)).toEqual({ v4: false, v6: true, allowLan: true });
    expect(build('def1 block-local', true)).toEqual({ v4: true, v6: false, allowLan: false });
    expect(build('def1', false)).toEqual({ v4: true, v6: false, allowLan: false });
  });

  it("carries the profile's mssfix, and reads a profile stored before mssfix had a mode", () => {
    const lines = (mssfix: string) => `client\nremote vpn.example.test 1194\n${mssfix}\n<ca>\n${t.pki.ca}</ca>\nauth-user-pass\n`;
    const build = (profile: Profile) => buildEngineConfig(profile, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, options).mssfix;
    expect(build(profileFrom(lines('mssfix 1300 mtu')).profile)).toEqual({ max: 1300, mode: 'mtu' });
    expect(build(profileFrom(lines('mssfix 0')).profile)).toEqual({ max: 0, mode: 'payload' });
    expect(build(profileFrom(lines('mssfix')).profile)).toEqual({ max: 1492, mode: 'mtu' });
  });

  it('builds a password profile with a static challenge and known credentials', () => {
    const { profile } = profileFrom(`client
remote vpn.example.test 1194 udp
auth-user-pass
static-challenge "Enter your OTP" 1
<ca>
${t.pki.ca}</ca>
`);
    const config = buildEngineConfig(profile, { key: null, credentials: { username: 'alice', password: 'pw' }, staticKeys: noStaticKeys, proxyCredentials: null }, options);
    expect(config).toMatchObject({
      authUserPass: true,
      staticChallenge: { text: 'Enter your OTP', echo: true },
      credentials: { username: 'alice', password: 'pw' },
      cert: null,
      key: null,
    });
  });

  it("carries the profile's own DNS options and net_gateway exclusions", () => {
    const { profile } = profileFrom(`client
remote vpn.example.test 1194 udp
auth-user-pass
redirect-gateway def1
route 192.168.0.0 255.255.255.0 net_gateway
route 10.60.0.0 255.255.0.0
dhcp-option DNS 10.8.0.53
dhcp-option DNS6 fd00::53
dhcp-option DOMAIN corp.example
dhcp-option DOMAIN-ROUTE internal.example
<ca>
${t.pki.ca}</ca>
`);
    const config = buildEngineConfig(profile, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, options);
    expect(config.excludedRoutes).toEqual(['192.168.0.0/24']);
    expect(config.routes).toEqual(['10.60.0.0/16']);
    expect(config.dns).toEqual({
      servers: ['10.8.0.53', 'fd00::53'],
      searchDomains: ['corp.example'],
      routeDomains: ['internal.example'],
    });
    expect(() => parseClientMessage({ type: 'connect', session: 's', config })).not.toThrow();
  });

  it('refuses a certificate profile whose key is missing, or that has no certificate, with a next step', () => {
    const { profile } = profileFrom(`client
remote vpn.example.test 1194 udp
<ca>
${t.pki.ca}</ca>
<cert>
${t.pki.clientRsa.cert}</cert>
<key>
${t.pki.clientRsa.key}</key>
`);
    expect(() => buildEngineConfig(profile, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, options)).toThrow(
      /private key of profile "Test" is not in the keyring/,
    );
    const noCert: Profile = { ...profile, cert: null, hasKey: false, auth: { ...profile.auth, kind: 'certificate' } };
    expect(() => buildEngineConfig(noCert, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, options)).toThrow(ProfileUnusableError);
    expect(() => buildEngineConfig(noCert, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, options)).toThrow(/causeway cert import/);
  });

  it('refuses an AWS mutual-authentication profile exported without its client certificate', () => {
    const { profile } = profileFrom(`client
remote cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com 443 udp
remote-random-hostname
<ca>
${t.pki.ca}</ca>
`);
    expect(profile).toMatchObject({ isAws: true, cert: null, auth: { kind: 'none' } });
    expect(() => buildEngineConfig(profile, { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null }, options)).toThrow(/needs a client certificate but has none; attach one/);
  });

  it('takes the tls-crypt key from the secret store, never from the profile, and refuses when it is missing', () => {
    const { profile, staticKeys } = profileFrom(`client
remote vpn.example.test 1194 udp
auth-user-pass
<ca>
${t.pki.ca}</ca>
<tls-crypt>
${t.pki.tlsCryptKey}</tls-crypt>
`);
    expect(profile.tlsCrypt).toBe(true);
    expect(JSON.stringify(profile)).not.toContain('OpenVPN Static key');
    const credentials = { username: 'alice', password: 'pw' };
    expect(buildEngineConfig(profile, { key: null, credentials, staticKeys, proxyCredentials: null }, options).tlsCrypt).toContain('OpenVPN Static key V1');
    expect(() => buildEngineConfig(profile, { key: null, credentials, staticKeys: noStaticKeys, proxyCredentials: null }, options)).toThrow(
      /tls-crypt key of profile "Test" is not in the secret store/,
    );
  });

  it('carries an http-proxy with its options, and the proxy password from the secret store only', () => {
    const { profile, proxyCredentials } = profileFrom(
      `client\nproto tcp\nremote vpn.example.test 443\nhttp-proxy proxy.example.test 3128 auto basic\n` +
        `http-proxy-option VERSION 1.1\nhttp-proxy-option AGENT "Causeway Test"\nhttp-proxy-option CUSTOM-HEADER X-Team blue\n` +
        `<http-proxy-user-pass>\nalice\nproxy-secret\n</http-proxy-user-pass>\n<ca>\n${t.pki.ca}</ca>\nauth-user-pass\n`,
    );
    expect(JSON.stringify(profile)).not.toContain('proxy-secret');
    expect(proxyCredentials).toEqual({ username: 'alice', password: 'proxy-secret' });
    const secrets = { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials };
    const config = buildEngineConfig(profile, secrets, options);
    expect(config.proxy).toEqual({
      kind: 'http',
      host: 'proxy.example.test',
      port: 3128,
      credentials: { username: 'alice', password: 'proxy-secret' },
      httpVersion: '1.1',
      userAgent: 'Causeway Test',
      customHeaders: [{ name: 'X-Team', value: 'blue' }],
    });
    // The helper accepts what main sends.
    expect(() => parseClientMessage({ type: 'connect', session: 's1', config })).not.toThrow();
    expect(() => buildEngineConfig(profile, { ...secrets, proxyCredentials: null }, options)).toThrow(/proxy password of profile "Test" is not in the secret store/);
  });

  it('carries a socks-proxy without credentials, and a profile without a proxy connects directly', () => {
    const socks = profileFrom(`client\nremote vpn.example.test 443 tcp\nsocks-proxy 10.9.0.1 1080\n<ca>\n${t.pki.ca}</ca>\nauth-user-pass\n`);
    const secrets = { key: null, credentials: null, staticKeys: noStaticKeys, proxyCredentials: null };
    expect(buildEngineConfig(socks.profile, secrets, options).proxy).toMatchObject({ kind: 'socks5', host: '10.9.0.1', port: 1080, credentials: null });
    const direct = profileFrom(`client\nremote vpn.example.test 443 tcp\n<ca>\n${t.pki.ca}</ca>\nauth-user-pass\n`);
    expect(buildEngineConfig(direct.profile, secrets, options).proxy).toBeNull();
  });
});
