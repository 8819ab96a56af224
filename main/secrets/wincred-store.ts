// Windows backend: Credential Manager (generic credentials "causeway:<account>", persisted per
// user, protected by DPAPI) through CredWriteW/CredReadW/CredDeleteW called from Windows
// PowerShell. The request, secret included, goes in on stdin as JSON, never on the command line.
// Not testable on the Linux CI machine. Credential Manager caps a blob at 2560 bytes; larger
// secrets (e.g. RSA-4096 keys) are refused with a clear error rather than truncated.
import type { SecretStore } from './secret-store.js';
import { runTool } from './run-tool.js';

/** CRED_MAX_CREDENTIAL_BLOB_SIZE (5 * 512). */
export const WINCRED_MAX_BLOB_BYTES = 2560;
/** Exit code the script uses for ERROR_NOT_FOUND. */
const NOT_FOUND = 3;

const SCRIPT = `
$ErrorActionPreference = 'Stop'
$req = [Console]::In.ReadToEnd() | ConvertFrom-Json
Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class CausewayCred {
  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
  public struct CREDENTIAL {
    public int Flags; public int Type; public string TargetName; public string Comment;
    public System.Runtime.InteropServices.ComTypes.FILETIME LastWritten;
    public int CredentialBlobSize; public IntPtr CredentialBlob; public int Persist;
    public int AttributeCount; public IntPtr Attributes; public string TargetAlias; public string UserName;
  }
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  public static extern bool CredWriteW(ref CREDENTIAL c, int flags);
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  public static extern bool CredReadW(string target, int type, int flags, out IntPtr c);
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  public static extern bool CredDeleteW(string target, int type, int flags);
  [DllImport("advapi32.dll")]
  public static extern void CredFree(IntPtr c);
}
'@
$target = 'causeway:' + $req.account
if ($req.op -eq 'get') {
  $p = [IntPtr]::Zero
  if (-not [CausewayCred]::CredReadW($target, 1, 0, [ref]$p)) {
    if ([Runtime.InteropServices.Marshal]::GetLastWin32Error() -eq 1168) { exit ${NOT_FOUND} }
    throw "CredRead failed: " + [Runtime.InteropServices.Marshal]::GetLastWin32Error()
  }
  $c = [Runtime.InteropServices.Marshal]::PtrToStructure($p, [type][CausewayCred+CREDENTIAL])
  $bytes = New-Object byte[] $c.CredentialBlobSize
  [Runtime.InteropServices.Marshal]::Copy($c.CredentialBlob, $bytes, 0, $c.CredentialBlobSize)
  [CausewayCred]::CredFree($p)
  [Console]::Out.Write([Convert]::ToBase64String($bytes))
} elseif ($req.op -eq 'set') {
  $bytes = [Convert]::FromBase64String($req.secret)
  $h = [Runtime.InteropServices.GCHandle]::Alloc($bytes, 'Pinned')
  try {
    $c = New-Object CausewayCred+CREDENTIAL
    $c.Type = 1; $c.Persist = 2; $c.TargetName = $target; $c.UserName = $req.account
    $c.CredentialBlobSize = $bytes.Length; $c.CredentialBlob = $h.AddrOfPinnedObject()
    if (-not [CausewayCred]::CredWriteW([ref]$c, 0)) {
      throw "CredWrite failed: " + [Runtime.InteropServices.Marshal]::GetLastWin32Error()
    }
  } finally { $h.Free() }
} elseif ($req.op -eq 'delete') {
  if (-not [CausewayCred]::CredDeleteW($target, 1, 0)) {
    if ([Runtime.InteropServices.Marshal]::GetLastWin32Error() -eq 1168) { exit 0 }
    throw "CredDelete failed: " + [Runtime.InteropServices.Marshal]::GetLastWin32Error()
  }
}
`;

export class WinCredStore implements SecretStore {
  readonly backend = 'wincred' as const;
  readonly persistent = true;
  readonly reason = null;

  private run(request: { op: 'get' | 'set' | 'delete'; account: string; secret?: string }) {
    return runTool('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', SCRIPT], {
      stdin: JSON.stringify(request),
      timeoutMs: 30_000,
    });
  }

  async get(account: string): Promise<string | null> {
    const r = await this.run({ op: 'get', account });
    if (r.code === NOT_FOUND) return null;
    if (r.code !== 0) throw new Error(`Credential Manager lookup failed: ${r.stderr || `exit ${r.code}`}`);
    return Buffer.from(r.stdout.trim(), 'base64').toString('utf8');
  }

  async set(account: string, secret: string): Promise<void> {
    const bytes = Buffer.from(secret, 'utf8');
    if (bytes.length > WINCRED_MAX_BLOB_BYTES) {
      throw new Error(
        `this secret is ${bytes.length} bytes; Windows Credential Manager holds at most ${WINCRED_MAX_BLOB_BYTES}`,
      );
    }
    const r = await this.run({ op: 'set', account, secret: bytes.toString('base64') });
    if (r.code !== 0) throw new Error(`Credential Manager refused to store the secret: ${r.stderr || `exit ${r.code}`}`);
  }

  async delete(account: string): Promise<void> {
    const r = await this.run({ op: 'delete', account });
    if (r.code !== 0) throw new Error(`Credential Manager could not delete the secret: ${r.stderr || `exit ${r.code}`}`);
  }
}
