import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../app/profile/index.js';
import { storedProfile } from '../../test/support/stored-profile.js';
import { describeProfile, profileView } from './profile-view.js';

const corpus = (f: string) => readFileSync(new URL(`../../test/corpus/${f}`, import.meta.url));

function stored(file: string): Profile {
  return storedProfile(corpus(file), { id: 'p-000001', name: 'P' }).profile;
}

describe('profile views', () => {
  it('never contain static keys or the CA text, only summaries', () => {
    const p = stored('real-world/router-asus-merlin.ovpn');
    const view = JSON.stringify(profileView(p));
    const text = describeProfile(p);
    for (const out of [view, text]) {
      expect(out).not.toContain('OpenVPN Static key');
      expect(out).not.toContain('BEGIN CERTIFICATE');
    }
    expect(profileView(p)).toMatchObject({ tlsAuth: { present: true, direction: 1 }, cert: { subject: 'CN=client', issuer: 'CN=CorpusCA' } });
    expect(text).toMatch(/control channel: tls-auth \(direction 1\)/);
  });

  it('describe routing and DNS as a user reads them', () => {
    const text = describeProfile(stored('real-world/aws-saml-split-dns-ipv6.ovpn'));
    expect(text).toMatch(/sign-in: +AWS single sign-on \(browser\)/);
    expect(text).toMatch(/DNS through VPN: all names/);
    expect(text).toMatch(/routes: +2000::\/3, fc00::\/7/);
  });
});
