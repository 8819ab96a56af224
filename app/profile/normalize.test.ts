import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProfileError } from './errors.js';
import { checkProfile } from './index.js';

const pki = (f: string) => readFileSync(new URL(`../../test/corpus/pki/${f}`, import.meta.url), 'utf8');
const CA = `<ca>\n${pki('ca.crt')}</ca>\n`;
const CERT = `<cert>\n${pki('client.crt')}</cert>\n<key>\n${pki('client.key')}</key>\n`;
const TA = pki('ta.key');

function check(text: string, readReference?: (p: string) => string) {
  return checkProfile(text, readReference ? { readReference } : {});
}
const messages = (issues: { message: string }[]) => issues.map((i) => i.message).join('\n');

describe('checkProfile: keep', () => {
  it('builds the model of an AWS SAML export', () => {
    const v = check(
      `client\ndev tun\nproto tcp\nremote cvpn-endpoint-0123456789abcdef0.prod.clientvpn.us-east-1.amazonaws.com 443\n` +
        `remote-random-hostname\nresolv-retry infinite\nnobind\nremote-cert-tls server\ncipher AES-256-GCM\nverb 3\n${CA}` +
        `auth-user-pass\nauth-federate\nauth-retry interact\nreneg-sec 0\nverify-x509-name vpn.example.com name\n`,
    );
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual([]);
    const s = v.settings!;
    expect(s.remotes).toEqual([{ host: 'cvpn-endpoint-0123456789abcdef0.prod.clientvpn.us-east-1.amazonaws.com', port: 443, proto: 'tcp', family: 'any' }]);
    expect(s.isAws).toBe(true);
    expect(s.aws).toEqual({ endpointId: 'cvpn-endpoint-0123456789abcdef0', region: 'us-east-1' });
    expect(s.auth).toMatchObject({ kind: 'aws-saml', userPass: true, retry: 'interact' });
    expect(s.remoteRandomHostname).toBe(true);
    expect(s.renegSec).toBe(0);
    expect(s.verifyX509Name).toEqual({ name: 'vpn.example.com', type: 'name' });
    expect(s.remoteCertTls).toBe('server');
    expect(s.hasKey).toBe(false);
  });

  it('normalizes key material without changing it', () => {
    const v = check(`client\nremote h\n${CA}${CERT}<tls-auth>\n${TA}</tls-auth>\n`);
    const s = v.settings!;
    // Certificates and keys still parse, and are the same objects as the originals.
    expect(new X509Certificate(s.ca).fingerprint256).toBe(new X509Certificate(pki('ca.crt')).fingerprint256);
    expect(new X509Certificate(s.cert!).fingerprint256).toBe(new X509Certificate(pki('client.crt')).fingerprint256);
    const der = (k: string) => createPrivateKey(k).export({ type: 'pkcs8', format: 'der' }).toString('hex');
    expect(der(v.secrets.key!)).toBe(der(pki('client.key')));
    // The static key keeps its 256 bytes, in OpenVPN's 16 lines of 32 hex digits.
    const hex = (t: string) => t.replace(/^#.*$/gm, '').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    // It is a secret: the settings only say it is there.
    expect(s.tlsAuth).toEqual({ direction: null });
    expect(JSON.stringify(s)).not.toContain('OpenVPN Static key');
    expect(hex(v.secrets.tlsAuth!)).toBe(hex(TA));
    expect(v.secrets.tlsAuth!.split('\n').filter((l) => /^[0-9a-f]{32}$/.test(l))).toHaveLength(16);
  });

  it('keeps the private key out of the settings and hands it over as a secret', () => {
    const v = check(`client\nremote 192.0.2.1\n${CA}${CERT}`);
    expect(v.ok).toBe(true);
    expect(v.settings!.auth.kind).toBe('certificate');
    expect(v.settings!.hasKey).toBe(true);
    expect(JSON.stringify(v.settings)).not.toContain('PRIVATE KEY');
    expect(v.secrets.key).toContain('-----BEGIN PRIVATE KEY-----');
    expect(v.settings!.remotes).toEqual([{ host: '192.0.2.1', port: 1194, proto: 'udp', family: 'any' }]);
  });

  it('applies proto/port defaults', () => {
    const v = check(`client\nremote a.example.com\nremote b.example.com 1194 udp\nproto tcp-client\nport 8443\n${CA}`);
    expect(v.settings!.remotes).toEqual([
      { host: 'a.example.com', port: 8443, proto: 'tcp', family: 'any' },
      { host: 'b.example.com', port: 1194, proto: 'udp', family: 'any' },
    ]);
  });

  it('carries the address family a proto names (udp6/tcp4-client) and refuses a literal it excludes', () => {
    const v = check(`client\nproto udp6\nremote a.example.com\nremote 192.0.2.1 443 tcp4-client\n${CA}`);
    expect(v.settings!.remotes).toEqual([
      { host: 'a.example.com', port: 1194, proto: 'udp', family: 'ipv6' },
      { host: '192.0.2.1', port: 443, proto: 'tcp', family: 'ipv4' },
    ]);
    const bad = check(`client\nproto tcp6\nremote 192.0.2.1\n${CA}`);
    expect(bad.errors.map((e) => e.message)).toEqual(['remote 192.0.2.1 is not an IPv6 address, but its proto allows only IPv6']);
  });

  it('uses <connection> blocks, and then ignores remote lines outside them (as OpenVPN)', () => {
    const v = check(
      `client\nproto tcp-client\nport 8443\nremote a.example.com\n` +
        `<connection>\nremote c.example.com\nport 443\n</connection>\n<connection>\nremote d.example.com 53 udp\n</connection>\n${CA}`,
    );
    expect(v.settings!.remotes).toEqual([
      { host: 'c.example.com', port: 443, proto: 'tcp', family: 'any' },
      { host: 'd.example.com', port: 53, proto: 'udp', family: 'any' },
    ]);
    expect(v.warnings).toContainEqual(expect.objectContaining({ line: 4, directive: 'remote', message: expect.stringMatching(/ignored when the profile has <connection> blocks/) }));
  });

  it('reads tls-auth with key-direction, data ciphers, routes and DNS', () => {
    const v = check(
      `client\nremote h\n${CA}<tls-auth>\n${TA}</tls-auth>\nkey-direction 1\nauth SHA256\n` +
        `data-ciphers AES-256-GCM:AES-192-GCM:AES-256-CBC:CHACHA20-POLY1305\nroute 10.1.2.3 255.255.0.0\nroute 192.168.0.0 255.255.255.0 net_gateway\n` +
        `route-ipv6 2000::/3\nredirect-gateway def1 ipv6\ndhcp-option DNS 10.0.0.2\ndhcp-option DOMAIN-ROUTE .\ndhcp-option DOMAIN corp.example\n` +
        `ifconfig-ipv6 fd15:53b6:dead::2/64 fd15:53b6:dead::1\nkeepalive 10 60\ncomp-lzo no\ntun-mtu 1400\nsetenv IV_GUI_VER "corp 1"\n`,
    );
    expect(v.errors).toEqual([]);
    const s = v.settings!;
    expect(s.tlsAuth!.direction).toBe(1);
    expect(v.secrets.tlsAuth).toContain('OpenVPN Static key V1');
    expect(s.authDigest).toBe('SHA256');
    expect(s.dataCiphers).toEqual(['AES-256-GCM', 'AES-256-CBC', 'CHACHA20-POLY1305']);
    expect(messages(v.warnings)).toMatch(/AES-192-GCM is not supported/);
    expect(messages(v.warnings)).toMatch(/host bits set; using 10.1.0.0\/16/);
    expect(s.routes).toEqual(['10.1.0.0/16']);
    expect(s.excludedRoutes).toEqual(['192.168.0.0/24']);
    expect(s.routesIpv6).toEqual(['2000::/3']);
    expect(s.redirectGateway).toEqual({ ipv4: true, ipv6: true, flags: ['def1', 'ipv6'] });
    expect(s.dns).toEqual({ servers: ['10.0.0.2'], searchDomains: ['corp.example'], routeDomains: ['.'] });
    expect(s.ifconfigIpv6).toEqual({ address: 'fd15:53b6:dead::2', prefix: 64, remote: 'fd15:53b6:dead::1' });
    // As in OpenVPN, an IPv6 address without /bits is a /64 (AWS's leak-prevention lines have none).
    const aws = check(`client\nremote h\n${CA}ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1\nroute-ipv6 2000::\n`);
    expect(aws.settings!.ifconfigIpv6!.prefix).toBe(64);
    expect(aws.settings!.routesIpv6).toEqual(['2000::/64']);
    expect(s.keepalive).toEqual({ intervalSec: 10, timeoutSec: 60 });
    expect(s.compression).toBe('comp-lzo-no');
    expect(s.tunMtu).toBe(1400);
    expect(s.peerInfo).toEqual({ IV_GUI_VER: 'corp 1' });
  });

  it('reads mssfix with its OpenVPN 2.6 modes', () => {
    const mss = (line: string) => check(`client\nremote h\n${CA}${line}\n`).settings!.mssFix;
    expect(mss('tun-mtu 1500')).toBeNull();
    expect(mss('mssfix')).toBeNull();
    expect(mss('mssfix 1450')).toEqual({ max: 1450, mode: 'payload' });
    expect(mss('mssfix 1300 mtu')).toEqual({ max: 1300, mode: 'mtu' });
    expect(mss('mssfix 1400 fixed')).toEqual({ max: 1400, mode: 'fixed' });
    expect(mss('mssfix 0')).toEqual({ max: 0, mode: 'payload' });
    expect(messages(check(`client\nremote h\n${CA}mssfix 1300 big\n`).errors)).toMatch(/mssfix: the second word must be mtu or fixed/);
  });

  it('understands static challenges and inline credentials', () => {
    const v = check(`client\nremote h\n${CA}auth-user-pass\nstatic-challenge "Enter MFA code " 1\n`);
    expect(v.settings!.auth).toMatchObject({ kind: 'static-challenge', staticChallenge: { text: 'Enter MFA code ', echo: true } });
    const w = check(`client\nremote h\n${CA}<auth-user-pass>\nalice\ns3cret\n</auth-user-pass>\n`);
    expect(w.settings!.auth).toMatchObject({ kind: 'password', username: 'alice', hasSavedPassword: true });
    expect(w.secrets.password).toBe('s3cret');
    expect(JSON.stringify(w.settings)).not.toContain('s3cret');
  });

  it('resolves file references through the injected reader', () => {
    const files: Record<string, string> = { 'ca.crt': pki('ca.crt'), 'keys/ta.key': TA };
    const v = check('client\nremote h\nca ca.crt\ntls-auth keys/ta.key 1\n', (p) => {
      const f = files[p];
      if (f === undefined) throw new ProfileError(`the file "${p}" does not exist`);
      return f;
    });
    expect(v.errors).toEqual([]);
    expect(v.settings!.tlsAuth!.direction).toBe(1);
    const missing = check('client\nremote h\nca nope.crt\n', () => {
      throw new ProfileError('the file "nope.crt" does not exist');
    });
    expect(missing.errors[0]).toEqual({ line: 3, directive: 'ca', message: 'the file "nope.crt" does not exist' });
    const noReader = check('client\nremote h\nca ca.crt\n');
    expect(messages(noReader.errors)).toMatch(/refers to the file "ca.crt"/);
  });
});

describe('the AWS VPN Client directive allow-list (aws-client-vpn.md §2.9)', () => {
  it.each([
    'auth-user-pass',
    'cipher AES-256-GCM',
    'client',
    'connect-retry 5',
    'dev tun',
    'nobind',
    'persist-key',
    'persist-tun',
    'proto udp',
    'remote-cert-tls server',
    'remote-random-hostname',
    'reneg-sec 0',
    'resolv-retry infinite',
    'static-challenge "Enter MFA code " 1',
    'tun-mtu 1500',
    'tun-mtu-extra 32',
    'verb 3',
    'auth-federate',
    'auth-retry interact',
    'verify-x509-name vpn.example.com name',
    'dhcp-option DOMAIN-ROUTE .',
    'ifconfig-ipv6 fd15:53b6:dead::2 fd15:53b6:dead::1',
    'route-ipv6 2000::/3',
  ])('%s is understood and kept', (line) => {
    const v = check(`remote cvpn-endpoint-0123456789abcdef0.prod.clientvpn.us-east-1.amazonaws.com 443\nremote-cert-tls server\n${CA}auth-user-pass\n${line}\n`);
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual([]);
  });

  it('cryptoapicert (Windows certificate store) is removed with a warning that says why', () => {
    const v = check(`remote h\n${CA}auth-user-pass\ncryptoapicert "SUBJ:alice"\n`);
    expect(messages(v.warnings)).toMatch(/Windows certificate store/);
  });
});

describe('checkProfile: pkcs12', () => {
  const bundle = { cert: pki('client.crt'), chain: pki('ca.crt'), key: pki('client.key') };
  it('takes certificate, key and (without a ca line) the CA from the bundle', () => {
    const seen: number[] = [];
    const v = checkProfile(`client\nremote h\n<pkcs12>\nAAEC\n</pkcs12>\n`, {
      readPkcs12: (der) => {
        seen.push(...der);
        return bundle;
      },
    });
    expect(seen).toEqual([0, 1, 2]);
    expect(v.errors).toEqual([]);
    expect(v.settings).toMatchObject({ auth: { kind: 'certificate' }, hasKey: true });
    expect(v.settings!.ca).toContain('BEGIN CERTIFICATE');
    expect(v.secrets.key).toContain('PRIVATE KEY');
  });

  it('is refused where no reader is available, and reports reader errors at the line', () => {
    expect(messages(checkProfile(`remote h\n<pkcs12>\nAAEC\n</pkcs12>\n`).errors)).toMatch(/PKCS#12 bundles cannot be read here/);
    const v = checkProfile(`remote h\npkcs12 [inline]\n<pkcs12>\n!!\n</pkcs12>\n`, { readPkcs12: () => bundle });
    expect(v.errors[0]).toMatchObject({ line: 2, directive: 'pkcs12', message: 'the <pkcs12> block is not base64' });
    const w = checkProfile(`remote h\n<pkcs12>\nAAEC\n</pkcs12>\n`, {
      readPkcs12: () => {
        throw new ProfileError('the PKCS#12 bundle is protected by a password');
      },
    });
    expect(w.errors).toEqual([{ line: 2, directive: 'pkcs12', message: 'the PKCS#12 bundle is protected by a password' }]);
  });
});

describe('checkProfile: strip', () => {
  it.each([
    ['up /tmp/x.sh', /runs a program/],
    ['script-security 2', /allows scripts/],
    ['plugin /usr/lib/evil.so', /loads a code library/],
    ['management 127.0.0.1 7505', /management interface/],
    ['log /tmp/x.log', /writes logs/],
    ['status /tmp/status', /writes a file/],
    ['writepid /tmp/pid', /writes a file/],
    ['daemon', /controls the OpenVPN process/],
    ['cd /etc', /controls the OpenVPN process/],
    ['chroot /', /controls the OpenVPN process/],
    ['config other.conf', /controls the OpenVPN process/],
    ['setenv FOO bar', /sets a variable for scripts/],
    ['tls-verify /bin/true', /runs a program/],
    ['ipchange /bin/true', /runs a program/],
  ])('%s is removed with a warning', (line, why) => {
    const v = check(`client\nremote h\nremote-cert-tls server\n${CA}auth-user-pass\n${line}\n`);
    expect(v.ok).toBe(true);
    expect(v.warnings).toHaveLength(1);
    expect(v.warnings[0]!.line).toBe(5 + CA.split('\n').length - 1);
    expect(v.warnings[0]!.message).toMatch(why);
  });

  it('lists unknown directives as warnings', () => {
    const v = check(`client\nremote h\n${CA}frobnicate 3\n`);
    expect(v.ok).toBe(true);
    expect(v.warnings[0]!.message).toMatch(/frobnicate is not a directive Causeway understands/);
  });

  it('ignores an auth-user-pass file argument instead of reading it', () => {
    const v = check(`client\nremote h\n${CA}auth-user-pass /etc/os-release\n`, () => {
      throw new Error('must not be read');
    });
    expect(v.settings!.auth.kind).toBe('password');
    expect(messages(v.warnings)).toMatch(/was not read/);
  });
});

describe('checkProfile: CBC data ciphers for older servers', () => {
  it('offers a 2.4-style cipher after the negotiated ones, with its auth digest', () => {
    const v = check(`client\nremote h\n${CA}cipher AES-256-CBC\nauth SHA512\n`);
    expect(v.errors).toEqual([]);
    expect(messages(v.warnings)).not.toMatch(/cipher|auth SHA512/);
    expect(v.settings!.dataCiphers).toEqual(['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305', 'AES-256-CBC']);
    expect(v.settings!.authDigest).toBe('SHA512');
    expect(v.settings!.dataCiphersFallback).toBeNull();
  });

  it('keeps data-ciphers-fallback and lists CBC ciphers in data-ciphers', () => {
    const v = check(`client\nremote h\n${CA}data-ciphers AES-128-CBC:AES-256-GCM\ndata-ciphers-fallback aes-128-cbc\nauth SHA1\n`);
    expect(v.errors).toEqual([]);
    expect(v.settings!.dataCiphers).toEqual(['AES-128-CBC', 'AES-256-GCM']);
    expect(v.settings!.dataCiphersFallback).toBe('AES-128-CBC');
    expect(v.settings!.authDigest).toBe('SHA1');
  });

  it('warns about a fallback or cipher the engine lacks, and an auth nothing uses', () => {
    const v = check(`client\nremote h\n${CA}data-ciphers-fallback AES-192-CBC\ncipher CAMELLIA-256-CBC\nauth MD5\n`);
    expect(v.ok).toBe(true);
    expect(v.settings!.dataCiphersFallback).toBeNull();
    expect(v.settings!.dataCiphers).toEqual(['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305']);
    expect(messages(v.warnings)).toMatch(/data-ciphers-fallback AES-192-CBC is ignored/);
    expect(messages(v.warnings)).toMatch(/cipher CAMELLIA-256-CBC is ignored/);
    expect(messages(v.warnings)).toMatch(/auth MD5 is ignored/);
  });

  it('refuses an auth digest the CBC HMAC cannot use', () => {
    const v = check(`client\nremote h\n${CA}cipher AES-256-CBC\nauth MD5\n`);
    expect(v.ok).toBe(false);
    expect(messages(v.errors)).toMatch(/auth MD5 is not supported for the CBC data ciphers; Causeway supports SHA1, SHA256, SHA512/);
  });
});

describe('checkProfile: refuse', () => {
  it.each([
    ['tls-version-min 1.0', /below 1.2/],
    ['tls-version-max 1.1', /below 1.2/],
    ['cipher none', /unencrypted/],
    ['data-ciphers AES-256-GCM:none', /unencrypted/],
    ['auth none', /packet authentication/],
    ['tls-cipher eNULL:!aNULL', /eNULL/],
    ['secret static.key', /static-key mode/],
    ['dev tap', /layer-2/],
    ['server 10.8.0.0 255.255.255.0', /server configuration/],
    ['remote', /takes 1 to 3 arguments/],
    ['remote h 99999', /not a number from 1 to 65535/],
    ['route 10.0.0.0 255.0.255.0', /not a valid netmask/],
    ['data-ciphers AES-192-GCM', /none of the data ciphers/],
    ['data-ciphers BF-CBC', /BF-CBC is a 64-bit block cipher open to the SWEET32 attack/],
    ['data-ciphers AES-256-GCM:DES-EDE3-CBC', /DES-EDE3-CBC is a 64-bit block cipher .*SWEET32.*AES-256-GCM/],
    ['cipher BF-CBC', /cipher: BF-CBC is a 64-bit block cipher .*SWEET32/],
    ['cipher CAST5-CBC', /SWEET32/],
    ['data-ciphers-fallback BF-CBC', /SWEET32/],
    ['data-ciphers-fallback none', /unencrypted/],
  ])('%s refuses the profile', (line, why) => {
    const v = check(`client\nremote h\n${CA}${line}\n`);
    expect(v.ok).toBe(false);
    expect(v.settings).toBeNull();
    expect(messages(v.errors)).toMatch(why);
    expect(v.errors[0]!.line).toBe(3 + CA.split('\n').length - 1);
  });

  it('refuses a profile without a CA or without a server', () => {
    expect(messages(check('client\nremote h\n').errors)).toMatch(/no CA certificate/);
    expect(messages(check(`client\n${CA}`).errors)).toMatch(/names no server/);
  });

  it('refuses a certificate without its key, a passphrase key and key material in the wrong slot', () => {
    expect(messages(check(`remote h\n${CA}<cert>\n${pki('client.crt')}</cert>\n`).errors)).toMatch(/no private key/);
    expect(messages(check(`remote h\n${CA}<cert>\n${pki('client.crt')}</cert>\n<key>\n${pki('encrypted.key')}</key>\n`).errors)).toMatch(/passphrase/);
    const ssh = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    expect(messages(check(`remote h\n${CA}<cert>\n${pki('client.crt')}</cert>\n<key>\n${ssh}</key>\n`).errors)).toMatch(/openssh private key, not a TLS private key/);
    const wrong = check(`remote h\n<ca>\n${pki('client.key')}</ca>\n`);
    expect(messages(wrong.errors)).toMatch(/holds no PEM certificate \(it holds a private key instead\)/);
    expect(messages(wrong.errors)).not.toMatch(/MIG/);
  });

  it('reports every refusal at once', () => {
    const v = check(`remote h\n${CA}cipher none\ntls-version-min 1.1\n`);
    expect(v.errors.map((e) => e.directive)).toEqual(['cipher', 'tls-version-min']);
  });
});

describe('checkProfile: server verification is kept or refused, never dropped', () => {
  const FP = 'AD:B0:95:D8:09:C8:36:45:12:9A:96:21:41:B8:E7:63:BF:C7:94:56:5D:CA:5A:12:33:6E:7C:D2:D7:6C:B8:B1';
  it('keeps peer-fingerprint (inline list or line) and needs no CA with it', () => {
    const v = check(`client\nremote h\nauth-user-pass\n<peer-fingerprint>\n# the server\n${FP}\n${FP.toLowerCase().replace(/:/g, '')}\n</peer-fingerprint>\n`);
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual([]); // a pinned server needs no remote-cert-tls warning
    expect(v.settings!.ca).toBe('');
    expect(v.settings!.peerFingerprints).toEqual([FP, FP]);
    expect(check(`client\nremote h\n${CA}peer-fingerprint ${FP}\nremote-cert-tls server\n`).settings!.peerFingerprints).toEqual([FP]);
    expect(messages(check(`client\nremote h\npeer-fingerprint AB:CD\n`).errors)).toMatch(/not a SHA-256 fingerprint/);
  });

  it('keeps crl-verify inline and from a file, refuses the dir form and a file without a CRL', () => {
    const crl = '-----BEGIN X509 CRL-----\nMIIBexample\n-----END X509 CRL-----\n';
    const base = `client\nremote h\nremote-cert-tls server\n${CA}`;
    expect(check(`${base}<crl-verify>\n${crl}</crl-verify>\n`).settings!.crl).toBe(crl);
    expect(check(`${base}crl-verify crl.pem\n`, () => crl).settings!.crl).toBe(crl);
    expect(messages(check(`${base}crl-verify /etc/crls dir\n`, () => crl).errors)).toMatch(/dir .* is not supported/);
    expect(messages(check(`${base}crl-verify crl.pem\n`, () => 'nothing').errors)).toMatch(/no PEM certificate revocation list/);
  });

  it('keeps verify-hash, remote-cert-ku and remote-cert-eku (names become OIDs)', () => {
    const sha1 = 'AB:'.repeat(19) + 'AB';
    const s = check(`client\nremote h\nremote-cert-tls server\n${CA}verify-hash ${sha1}\nremote-cert-ku a0 88\nremote-cert-eku "TLS Web Server Authentication"\n`).settings!;
    expect(s.verifyHash).toEqual({ algorithm: 'SHA1', fingerprints: [sha1] });
    expect(s.remoteCertKu).toEqual([0xa0, 0x88]);
    expect(s.remoteCertEku).toBe('1.3.6.1.5.5.7.3.1');
    expect(check(`client\nremote h\n${CA}verify-hash ${FP} SHA256\n`).settings!.verifyHash).toEqual({ algorithm: 'SHA256', fingerprints: [FP] });
    expect(messages(check(`client\nremote h\n${CA}remote-cert-eku madeUpUsage\n`).errors)).toMatch(/give its OID/);
  });

  it('refuses tls-remote with what to write instead, and warns when the server name is never checked', () => {
    expect(messages(check(`client\nremote h\n${CA}tls-remote server\n`).errors)).toMatch(/tls-remote was removed in OpenVPN 2.4 .* verify-x509-name <name> name/);
    const loose = check(`client\nremote h\nauth-user-pass\n${CA}`);
    expect(loose.ok).toBe(true);
    expect(messages(loose.warnings)).toMatch(/neither remote-cert-tls server nor verify-x509-name/);
    expect(check(`client\nremote h\nauth-user-pass\nverify-x509-name server name\n${CA}`).warnings).toEqual([]);
  });
});
