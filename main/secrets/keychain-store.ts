// macOS backend: the user's login Keychain through `/usr/bin/security`, as generic passwords with
// service "causeway" and the account name. The secret is written through `security -i` on stdin
// (never argv, which `ps` shows) and stored base64-encoded so multi-line PEM keys survive `-w`.
// Not testable on the Linux CI machine; it follows security(1) of macOS 13–15.
import type { SecretStore } from './secret-store.js';
import { runTool } from './run-tool.js';

const SERVICE = 'causeway';
/** `security` exits 44 (errSecItemNotFound) when no item matches. */
const NOT_FOUND = 44;

/** Accounts are our own namespaced names; refuse anything the interactive parser could misread. */
function checkAccount(account: string): void {
  if (!/^[\w./:@-]+$/.test(account)) throw new Error(`invalid secret account name: ${JSON.stringify(account)}`);
}

export class KeychainStore implements SecretStore {
  readonly backend = 'keychain' as const;
  readonly persistent = true;
  readonly reason = null;

  async get(account: string): Promise<string | null> {
    checkAccount(account);
    const r = await runTool('/usr/bin/security', ['find-generic-password', '-s', SERVICE, '-a', account, '-w']);
    if (r.code === NOT_FOUND) return null;
    if (r.code !== 0) throw new Error(`Keychain lookup failed: ${r.stderr || `exit ${r.code}`}`);
    return Buffer.from(r.stdout.trim(), 'base64').toString('utf8');
  }

  async set(account: string, secret: string): Promise<void> {
    checkAccount(account);
    const encoded = Buffer.from(secret, 'utf8').toString('base64');
    // No quoting needed (and none relied on): the account is checked above, base64 has no spaces.
    const command = `add-generic-password -U -s ${SERVICE} -a ${account} -w ${encoded}\n`;
    const r = await runTool('/usr/bin/security', ['-i'], { stdin: command });
    if (r.code !== 0 || /error/i.test(r.stderr)) {
      throw new Error(`Keychain refused to store the secret: ${r.stderr || `exit ${r.code}`}`);
    }
  }

  async delete(account: string): Promise<void> {
    checkAccount(account);
    const r = await runTool('/usr/bin/security', ['delete-generic-password', '-s', SERVICE, '-a', account]);
    if (r.code !== 0 && r.code !== NOT_FOUND) {
      throw new Error(`Keychain could not delete the secret: ${r.stderr || `exit ${r.code}`}`);
    }
  }
}
