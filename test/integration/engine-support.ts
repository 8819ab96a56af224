// Shared steps of the engine suites: bring a session up against a lab server, prove traffic
// flows both ways through it, and take it down again.
import { expect } from 'vitest';
import type { DataCipher, EngineConfig } from '../../app/helper-protocol/messages.js';
import { sleep, type HelperClient, type Lab, type LabServer } from '../peers/lab/index.js';

/** Enough to cross many TUN reads and a few TCP windows, quick on two cores. */
export const TRANSFER_BYTES = 2 * 1024 * 1024;

let sessionCounter = 0;
export const newSessionId = (label: string) => `${label}-${++sessionCounter}`;

/** Connects and waits for `connected`; returns the session id. */
export async function connectSession(helper: HelperClient, label: string, config: EngineConfig, timeoutMs = 20_000): Promise<string> {
  const session = newSessionId(label);
  helper.connect(session, config);
  await helper.waitForPhase(session, 'connected', timeoutMs);
  return session;
}

/** Ping and a checksum-verified transfer in both directions to the server's tunnel address. */
export async function proveTraffic(lab: Lab, server: LabServer, bytes = TRANSFER_BYTES): Promise<void> {
  await lab.ping(server.info.tunnelAddress);
  const r = await lab.transfer(server.info.tunnelAddress, bytes);
  expect(r).toMatchObject({ ok: true, upDigestOk: true, downDigestOk: true, up: bytes, down: bytes });
}

/** Disconnects, waits for `disconnected`, and checks the device is gone. */
export async function disconnectSession(lab: Lab, helper: HelperClient, session: string): Promise<void> {
  const device = helper.pushed(session)?.device;
  helper.disconnect(session);
  await helper.waitForPhase(session, 'disconnected', 10_000);
  if (device) expect(await lab.clientDevices()).not.toContain(device);
}

/** The data cipher the session ended up with, as the helper reported it. */
export function negotiatedCipher(helper: HelperClient, session: string): DataCipher | undefined {
  return helper.pushed(session)?.cipher;
}

/** How many TLS handshakes the server has logged so far. */
export function serverHandshakes(server: LabServer): number {
  return server.process.log.match(/Control Channel: TLSv/g)?.length ?? 0;
}

/**
 * The TLS version of the server's next handshake after the first `before` ones ("TLSv1.3").
 * Polls: the server's log arrives on its own pipe and may trail the helper's messages.
 */
export async function serverTlsVersionAfter(server: LabServer, before: number): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const versions = [...server.process.log.matchAll(/Control Channel: (TLSv[\d.]+)/g)].map((m) => m[1]!);
    if (versions.length > before) return versions[before]!;
    if (Date.now() > deadline) throw new Error(`server logged no new TLS handshake:\n${server.process.log.slice(-2000)}`);
    await sleep(20);
  }
}
