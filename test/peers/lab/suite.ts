// The lab of one describe block: made before its tests, with the servers it names and a helper,
// and closed after them (also when a test failed). A suite file writes what it needs and uses
// `t.lab`, `t.helper` and `t.servers.<name>` in its tests.
import { afterAll, beforeAll } from 'vitest';
import type { HelperClient } from './helper-client.js';
import { Lab, type LabServer } from './lab.js';
import type { ServerOptions } from './openvpn-server.js';

export interface LabSuite<S extends string> {
  readonly lab: Lab;
  /** The suite's helper; a test that stops it puts the next one here. */
  helper: HelperClient;
  readonly servers: Readonly<Record<S, LabServer>>;
}

export interface LabSuiteOptions<S extends string> {
  /** Runs first, on the new lab (a resolv.conf, a resolver, host names). */
  prepare?: (lab: Lab) => Promise<void> | void;
  /** The servers, started one after the other in this order (the lab numbers their subnets from 1). */
  servers?: (lab: Lab) => Record<S, ServerOptions>;
  /** Environment of the helper, started last. */
  helperEnv?: () => NodeJS.ProcessEnv;
  /** Runs after the lab is closed. */
  cleanup?: () => Promise<void> | void;
  timeoutMs?: number;
}

export function useLab<S extends string = never>(options: LabSuiteOptions<S> = {}): LabSuite<S> {
  const suite = { servers: {} } as { lab: Lab; helper: HelperClient; servers: Record<S, LabServer> };
  beforeAll(async () => {
    suite.lab = await Lab.create();
    await options.prepare?.(suite.lab);
    for (const [name, server] of Object.entries(options.servers?.(suite.lab) ?? {}) as [S, ServerOptions][]) {
      suite.servers[name] = await suite.lab.startServer(server);
    }
    suite.helper = await suite.lab.startHelper(options.helperEnv?.());
  }, options.timeoutMs);
  afterAll(async () => {
    await suite.lab?.close();
    await options.cleanup?.();
  });
  return suite;
}
