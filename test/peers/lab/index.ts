// The namespace lab's public API (see README.md).
export { Lab, LabServer, TRANSFER_PORT, type TransferResult } from './lab.js';
export { HelperClient, helperBinary, type StateMessage } from './helper-client.js';
export type { ClientChoices } from './engine-config.js';
export type { ServerOptions, ServerInfo, TlsWrap, ClientAuth } from './openvpn-server.js';
export type { Pki, CertAndKey } from './pki.js';
export { LabProcess } from './process.js';
export { run, inNetns, sleep } from './exec.js';
export { LineSplitter } from './lines.js';
export type { ProxyUser, RunningProxy } from './proxies.js';
