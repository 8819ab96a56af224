import net from 'node:net';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AwsSamlError, AwsSamlFlow, idpUrlOf, type AwsSamlStatus } from './aws-saml.js';
import type { BrowserOpener } from './browser.js';

const requestXml = (id: string) => `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="${id}"/>`;
const idpUrl = (id: string) =>
  `http://127.0.0.1:9/sso?SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(requestXml(id))).toString('base64'))}`;
const responseFor = (id: string) =>
  Buffer.from(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="${id}"/>`).toString('base64');

/** Plays the IdP's auto-submitting form: posts the response for the request in the opened URL. */
function idpBrowser(): BrowserOpener & { opened: string[]; acsPort: number } {
  const b = {
    opened: [] as string[],
    acsPort: 0,
    async open(url: string) {
      b.opened.push(url);
      void fetch(`http://127.0.0.1:${b.acsPort}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ SAMLResponse: responseFor(requestIdOf(url)) }),
      });
    },
  };
  return b;
}
function requestIdOf(url: string): string {
  const enc = new URL(url).searchParams.get('SAMLRequest') ?? '';
  return /ID="([^"]+)"/.exec(inflateRawSync(Buffer.from(enc, 'base64')).toString('utf8'))?.[1] ?? '';
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('AwsSamlFlow', () => {
  it('first leg is N/A / ACS::35001', () => {
    expect(new AwsSamlFlow({ opener: { open: async () => undefined } }).firstLegCredentials()).toEqual({
      username: 'N/A',
      password: 'ACS::35001',
    });
  });

  it('binds the ACS, opens the IdP URL from the raw CRV1 text and returns the SAMLResponse', async () => {
    const browser = idpBrowser();
    browser.acsPort = await freePort();
    const flow = new AwsSamlFlow({ opener: browser, acsPort: browser.acsPort, acsTimeoutMs: 10_000 });
    const statuses: AwsSamlStatus[] = [];
    const url = idpUrl('_req-1');
    const response = await flow.answer(
      's1',
      `AUTH_FAILED,CRV1:R:instance-1/123/abc:b'Ti9B':${url}`,
      new AbortController().signal,
      (s) => statuses.push(s),
    );
    expect(response).toBe(responseFor('_req-1'));
    expect(browser.opened).toEqual([url]);
    expect(statuses.map((s) => s.kind)).toEqual(['opening-browser', 'waiting-for-browser', 'browser-done']);
  });

  it('does not open a second tab when the endpoint refuses the assertion; a fresh login follows a connected tunnel', async () => {
    const browser = idpBrowser();
    browser.acsPort = await freePort();
    const flow = new AwsSamlFlow({ opener: browser, acsPort: browser.acsPort, acsTimeoutMs: 10_000 });
    const signal = new AbortController().signal;
    await flow.answer('s2', idpUrl('_a'), signal, () => undefined);
    await expect(flow.answer('s2', idpUrl('_b'), signal, () => undefined)).rejects.toThrow(AwsSamlError);
    expect(browser.opened).toHaveLength(1);

    await flow.answer('s2', idpUrl('_c'), signal, () => undefined);
    flow.connected('s2');
    await flow.answer('s2', idpUrl('_d'), signal, () => undefined);
    expect(browser.opened).toHaveLength(3);
  });

  it('joins a login already running for the session instead of opening another tab', async () => {
    const opened: string[] = [];
    const port = await freePort();
    const flow = new AwsSamlFlow({ opener: { open: async (u) => void opened.push(u) }, acsPort: port, acsTimeoutMs: 10_000 });
    const ctrl = new AbortController();
    const a = flow.answer('s3', idpUrl('_x'), ctrl.signal, () => undefined);
    const b = flow.answer('s3', idpUrl('_x'), ctrl.signal, () => undefined);
    expect(b).toBe(a);
    await new Promise((r) => setTimeout(r, 50));
    expect(opened).toHaveLength(1);
    ctrl.abort();
    await expect(a).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('refuses an unsafe IdP address before binding or opening anything', async () => {
    const opened: string[] = [];
    const flow = new AwsSamlFlow({ opener: { open: async (u) => void opened.push(u) } });
    expect(() => flow.answer('s4', "CRV1:R:st:b'Ti9B':http://idp.example.com/sso", new AbortController().signal, () => undefined)).toThrow(
      /unusable sign-in address.*http:\/\/idp\.example\.com/,
    );
    expect(opened).toEqual([]);
    expect(() => idpUrlOf('file:///etc/shadow')).toThrow(AwsSamlError);
  });
});
