import net from 'node:net';
import { deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { AcsError, authnRequestId, normalizeBase64, startAcsListener, type AcsListener } from './saml-acs.js';

const listeners: AcsListener[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.close();
});

async function listen(opts: Parameters<typeof startAcsListener>[0] = {}): Promise<AcsListener> {
  const l = await startAcsListener({ port: 0, ...opts });
  listeners.push(l);
  return l;
}

function samlResponse(inResponseTo: string | null, padding = 0): string {
  const attr = inResponseTo ? ` InResponseTo="${inResponseTo}"` : '';
  const xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1"${attr}><x>${'g'.repeat(padding)}</x></samlp:Response>`;
  return Buffer.from(xml).toString('base64');
}

function post(url: string, body: string, type = 'application/x-www-form-urlencoded', path = '/') {
  return fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': type }, body });
}

describe('ACS listener', () => {
  it('accepts one POST / with SAMLResponse, answers with a closable page and stops listening', async () => {
    const acs = await listen();
    const value = samlResponse('_abc', 40);
    const res = await post(acs.url, new URLSearchParams({ SAMLResponse: value, RelayState: 'x' }).toString());
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('You may close this window');
    expect(page).toContain('window.close()');
    expect(await acs.response).toBe(value);
    await expect(fetch(acs.url)).rejects.toThrow(); // nothing listens any more
  });

  it('restores base64 that form encoding turned into spaces', async () => {
    const acs = await listen();
    // "a+b/" arrives as "a b/" when an IdP forgets to percent-encode the plus sign
    const res = await post(acs.url, 'SAMLResponse=PHg+PC94Pg==&x=1'.replace('+', ' '));
    expect(res.status).toBe(200);
    expect(await acs.response).toBe('PHg+PC94Pg==');
  });

  it('rejects GET, other paths, other content types and a post without SAMLResponse, and keeps waiting', async () => {
    const acs = await listen();
    expect((await fetch(acs.url)).status).toBe(405);
    expect((await post(acs.url, 'SAMLResponse=x', undefined, '/other')).status).toBe(404);
    expect((await post(acs.url, '{"SAMLResponse":"x"}', 'application/json')).status).toBe(415);
    expect((await post(acs.url, 'RelayState=only')).status).toBe(400);
    const value = samlResponse(null);
    expect((await post(acs.url, new URLSearchParams({ SAMLResponse: value }).toString())).status).toBe(200);
    expect(await acs.response).toBe(value);
  });

  it('caps the body size', async () => {
    const acs = await listen({ maxBodyBytes: 4096 });
    const big = new URLSearchParams({ SAMLResponse: samlResponse(null, 8000) }).toString();
    const res = await post(acs.url, big).catch((e: Error) => e);
    if (!(res instanceof Error)) expect(res.status).toBe(413);
    const ok = samlResponse(null);
    expect((await post(acs.url, new URLSearchParams({ SAMLResponse: ok }).toString())).status).toBe(200);
    expect(await acs.response).toBe(ok);
  });

  it('takes a large (≈120 KB) realistic response', async () => {
    const acs = await listen();
    const value = samlResponse('_big', 90_000);
    expect(value.length).toBeGreaterThan(120_000);
    expect((await post(acs.url, new URLSearchParams({ SAMLResponse: value }).toString())).status).toBe(200);
    expect(await acs.response).toBe(value);
  });

  it('refuses a forged response that answers another login when the request id is known', async () => {
    const acs = await listen({ expectedRequestId: '_mine' });
    const forged = await post(acs.url, new URLSearchParams({ SAMLResponse: samlResponse('_someone-else') }).toString());
    expect(forged.status).toBe(403);
    expect(await forged.text()).toMatch(/does not belong/);
    const unsolicited = await post(acs.url, new URLSearchParams({ SAMLResponse: samlResponse(null) }).toString());
    expect(unsolicited.status).toBe(403);
    const real = samlResponse('_mine');
    expect((await post(acs.url, new URLSearchParams({ SAMLResponse: real }).toString())).status).toBe(200);
    expect(await acs.response).toBe(real);
  });

  it('a post after the login finished (no login pending) is refused', async () => {
    const acs = await listen();
    const keepAlive = new net.Socket();
    // Hold a connection open so the server object is still reachable after the first post.
    await new Promise<void>((r) => keepAlive.connect(Number(new URL(acs.url).port), '127.0.0.1', r));
    await post(acs.url, new URLSearchParams({ SAMLResponse: samlResponse(null) }).toString());
    await acs.response;
    const late = await post(acs.url, new URLSearchParams({ SAMLResponse: samlResponse(null) }).toString()).catch(
      (e: Error) => e,
    );
    if (late instanceof Error) expect(late.message).toMatch(/fetch failed/);
    else expect(late.status).toBe(410);
    keepAlive.destroy();
  });

  it('fails clearly when the port is already taken, before anything else happens', async () => {
    const first = await listen();
    const port = Number(new URL(first.url).port);
    const err = await startAcsListener({ port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AcsError);
    expect((err as AcsError).code).toBe('port-busy');
    expect((err as AcsError).message).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use`));
  });

  it('times out with a clear error and stops listening', async () => {
    const acs = await listen({ timeoutMs: 50 });
    await expect(acs.response).rejects.toMatchObject({ code: 'timeout', message: /No sign-in arrived/ });
    await expect(fetch(acs.url)).rejects.toThrow();
  });

  it('is cancelled by the abort signal and by close()', async () => {
    const ctrl = new AbortController();
    const a = await listen({ signal: ctrl.signal });
    ctrl.abort();
    await expect(a.response).rejects.toMatchObject({ code: 'cancelled' });
    const b = await listen();
    b.close();
    await expect(b.response).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('helpers', () => {
  it('reads the AuthnRequest ID from an HTTP-Redirect URL', () => {
    const xml = '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_8f3a" Version="2.0"/>';
    const enc = deflateRawSync(Buffer.from(xml)).toString('base64');
    expect(authnRequestId(`https://idp.example/sso?SAMLRequest=${encodeURIComponent(enc)}&RelayState=1`)).toBe('_8f3a');
    expect(authnRequestId('https://idp.example/sso?x=1')).toBeNull();
    expect(authnRequestId('https://idp.example/sso?SAMLRequest=garbage')).toBeNull();
  });

  it('normalizes URL-safe and unpadded base64', () => {
    expect(normalizeBase64('ab-_cd')).toBe('ab+/cd==');
  });
});
