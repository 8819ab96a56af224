import { describe, expect, it } from 'vitest';
import { Crv1ParseError, crv1Password, parseCrv1 } from './crv1.js';

describe('parseCrv1', () => {
  it('parses the AWS Client VPN challenge: slashes in the state, b-quoted username, URL with colons', () => {
    const url =
      'https://login.microsoftonline.com/tenant/saml2?SAMLRequest=fZJRT4MwFIX%2FCuk7lAJzrBksuMVliWZmmw%2B%2BmK5cRpOWYm%3A%3Ax&RelayState=a:b';
    const c = parseCrv1(`AUTH_FAILED,CRV1:R:instance-1/1234567890123456789/11111111-2222-3333-4444-555555555555:b'Ti9B':${url}`);
    expect(c).toEqual({
      echo: false,
      responseRequired: true,
      stateId: 'instance-1/1234567890123456789/11111111-2222-3333-4444-555555555555',
      username: 'N/A',
      text: url,
    });
  });

  it('accepts the management-interface flag form and a bare CRV1: prefix', () => {
    const c = parseCrv1("CRV1:R,E:sid-7:Ym9i:Enter the code from your token:");
    expect(c.echo).toBe(true);
    expect(c.responseRequired).toBe(true);
    expect(c.username).toBe('bob');
    expect(c.text).toBe('Enter the code from your token:');
  });

  it('accepts text without any prefix, as the engine may hand it over', () => {
    expect(parseCrv1('E:state:dXNlcg==:What is 2+2?')).toMatchObject({ stateId: 'state', username: 'user', echo: true });
  });

  it('keeps a username field that is not base64 as written', () => {
    expect(parseCrv1("R:s:b'not base64!':x").username).toBe('not base64!');
    expect(parseCrv1('R:s::x').username).toBeNull();
  });

  it('refuses malformed challenges with a clear error', () => {
    expect(() => parseCrv1('AUTH_FAILED,CRV1:R:only-two')).toThrow(Crv1ParseError);
    expect(() => parseCrv1('CRV1:R::dXNlcg==:text')).toThrow(/without a state id/);
  });

  it('builds the answer password', () => {
    expect(crv1Password('instance-1/2/3', 'PHNhbWw+')).toBe('CRV1::instance-1/2/3::PHNhbWw+');
  });
});
