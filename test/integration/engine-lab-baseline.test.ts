// The lab itself, checked with the stock openvpn client: if this fails, the engine matrix's
// failures say nothing about our engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../peers/lab/index.js';

describe('namespace lab with a stock openvpn client', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.create();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('carries ping and a checksum-verified transfer both ways (UDP, tls-crypt, password + cert)', async () => {
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt', clientAuth: 'both' });
    const client = await lab.startStockClient(server);
    try {
      await lab.ping(server.info.tunnelAddress);
      const r = await lab.transfer(server.info.tunnelAddress, 2 * 1024 * 1024);
      expect(r).toMatchObject({ ok: true, up: 2 * 1024 * 1024, down: 2 * 1024 * 1024 });
    } finally {
      await client.stop();
    }
  });

  it('rejects a wrong password at the server', async () => {
    const server = await lab.startServer({ proto: 'tcp', tlsWrap: 'tls-auth', clientAuth: 'password' });
    lab.credentials.password += '-wrong';
    try {
      await expect(lab.startStockClient(server)).rejects.toThrow(/AUTH_FAILED/);
    } finally {
      lab.credentials.password = lab.credentials.password.replace(/-wrong$/, '');
    }
  });
});
