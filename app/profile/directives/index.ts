// Every kept directive and its handler (../directive-policy.ts lists the stripped and refused ones).
import { authHandlers } from './auth.js';
import type { Handler } from './handler.js';
import { keyHandlers } from './keys.js';
import { networkHandlers } from './network.js';
import { peerInfoHandlers } from './peer-info.js';
import { proxyHandlers } from './proxy.js';
import { timerHandlers } from './timers.js';
import { tlsHandlers } from './tls.js';
import { transportHandlers } from './transport.js';
import { verifyHandlers } from './verify.js';

export const HANDLERS: Readonly<Record<string, Handler>> = {
  ...transportHandlers,
  ...keyHandlers,
  ...tlsHandlers,
  ...verifyHandlers,
  ...authHandlers,
  ...timerHandlers,
  ...networkHandlers,
  ...peerInfoHandlers,
  ...proxyHandlers,
};
