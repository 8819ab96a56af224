// globalSetup of the files run in their own network namespace (vitest.integration.config.ts). It
// runs in vitest's main process, in the host's namespace, so what needs the host's network is done
// here first: the patched openvpn build downloads Debian's source package (cached afterwards).
import { patchedOpenvpn } from '../peers/aws-endpoint/endpoint.js';

export default function setup(): void {
  patchedOpenvpn();
}
