// Linux backend: the freedesktop Secret Service (gnome-keyring, KWallet ≥ 5.97, KeePassXC) through
// libsecret's `secret-tool`. Going through the session bus rather than a native addon means the CLI
// under plain Node and the Electron app read and write the same items.
// Items carry the attributes service=causeway account=<account>.
import type { SecretStore } from './secret-store.js';
import { runTool } from './run-tool.js';

const SERVICE = 'causeway';
const PROBE_ACCOUNT = '__causeway-probe__';

export class SecretServiceStore implements SecretStore {
  readonly backend = 'secret-service' as const;
  readonly persistent = true;
  readonly reason = null;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async get(account: string): Promise<string | null> {
    const r = await runTool('secret-tool', ['lookup', 'service', SERVICE, 'account', account], { env: this.env });
    if (r.code === 0) return r.stdout;
    // secret-tool exits 1 without a message when no item matches.
    if (r.code === 1 && r.stderr === '') return null;
    throw new Error(`Secret Service lookup failed: ${r.stderr || `exit ${r.code}`}`);
  }

  async set(account: string, secret: string): Promise<void> {
    const r = await runTool(
      'secret-tool',
      ['store', `--label=Causeway: ${account}`, 'service', SERVICE, 'account', account],
      { env: this.env, stdin: secret },
    );
    if (r.code !== 0) throw new Error(`Secret Service refused to store the secret: ${r.stderr || `exit ${r.code}`}`);
  }

  async delete(account: string): Promise<void> {
    const r = await runTool('secret-tool', ['clear', 'service', SERVICE, 'account', account], { env: this.env });
    // Exit 1 without a message: nothing to delete, which is what the caller wanted.
    if (r.code !== 0 && !(r.code === 1 && r.stderr === '')) {
      throw new Error(`Secret Service could not delete the secret: ${r.stderr || `exit ${r.code}`}`);
    }
  }
}

/** Null when a Secret Service answers on the session bus; otherwise why it cannot be used. */
export async function probeSecretService(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (!env.DBUS_SESSION_BUS_ADDRESS) {
    return 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service keyring is reachable';
  }
  try {
    const r = await runTool('secret-tool', ['lookup', 'service', SERVICE, 'account', PROBE_ACCOUNT], {
      env,
      timeoutMs: 5_000,
    });
    if (r.code === 0 || (r.code === 1 && r.stderr === '')) return null;
    return `the Secret Service is not available: ${r.stderr || `secret-tool exit ${r.code}`}`;
  } catch (e) {
    if (e instanceof Error && /ENOENT/.test(e.message)) {
      return 'secret-tool is not installed (Debian/Ubuntu package libsecret-tools), so the keyring cannot be used';
    }
    return `the Secret Service is not available: ${e instanceof Error ? e.message : String(e)}`;
  }
}
