// Windows backend: Credential Manager (generic credentials "causeway:<account>", persisted per
// user, protected by DPAPI) through CredWriteW/CredReadW/CredDeleteW called from Windows
// PowerShell. Requests, secrets included, go in on stdin as JSON, never on the command line.
// Credential Manager caps one blob at 2560 bytes, less than an RSA-4096 key in PEM: larger secrets
// are split over "causeway:<account>#1..n", with "causeway:<account>" holding "chunks:<n>".
// The PowerShell part is not testable on the Linux CI machine; the chunking is (wincred-store.test.ts).
import type { SecretStore } from './secret-store.js';
import { runTool } from './run-tool.js';

/** CRED_MAX_CREDENTIAL_BLOB_SIZE (5 * 512). */
export const WINCRED_MAX_BLOB_BYTES = 2560;
/** Exit code the script uses for ERROR_NOT_FOUND. */
const NOT_FOUND = 3;
const CHUNKED = /^chunks:(\d{1,4})$/;

/** The three Credential Manager calls, on whole target names and raw bytes. */
export interface CredentialApi {
  read(target: string): Promise<Buffer | null>;
  write(target: string, blob: Buffer): Promise<void>;
  /** Deleting a missing credential is not an error. */
  delete(target: string): Promise<void>;
}

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
$target = $req.target
if ($req.op -eq 'read') {
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
} elseif ($req.op -eq 'write') {
  $bytes = [Convert]::FromBase64String($req.blob)
  $h = [Runtime.InteropServices.GCHandle]::Alloc($bytes, 'Pinned')
  try {
    $c = New-Object CausewayCred+CREDENTIAL
    $c.Type = 1; $c.Persist = 2; $c.TargetName = $target; $c.UserName = 'causeway'
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

/** Credential Manager through Windows PowerShell (powershell.exe ships with every Windows 10/11). */
export const powershellCredentials: CredentialApi = {
  async read(target) {
    const r = await run({ op: 'read', target });
    if (r.code === NOT_FOUND) return null;
    if (r.code !== 0) throw new Error(`Credential Manager lookup failed: ${r.stderr || `exit ${r.code}`}`);
    return Buffer.from(r.stdout.trim(), 'base64');
  },
  async write(target, blob) {
    const r = await run({ op: 'write', target, blob: blob.toString('base64') });
    if (r.code !== 0) throw new Error(`Credential Manager refused to store the secret: ${r.stderr || `exit ${r.code}`}`);
  },
  async delete(target) {
    const r = await run({ op: 'delete', target });
    if (r.code !== 0) throw new Error(`Credential Manager could not delete the secret: ${r.stderr || `exit ${r.code}`}`);
  },
};

function run(request: { op: 'read' | 'write' | 'delete'; target: string; blob?: string }) {
  return runTool('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', SCRIPT], {
    stdin: JSON.stringify(request),
    timeoutMs: 30_000,
  });
}

export class WinCredStore implements SecretStore {
  readonly backend = 'wincred' as const;
  readonly persistent = true;
  readonly reason = null;

  constructor(private readonly api: CredentialApi = powershellCredentials) {}

  async get(account: string): Promise<string | null> {
    const head = await this.api.read(target(account));
    if (head === null) return null;
    const chunked = CHUNKED.exec(head.toString('latin1'));
    if (!chunked) return head.toString('utf8');
    const parts: Buffer[] = [];
    for (let i = 1; i <= Number(chunked[1]); i++) {
      const part = await this.api.read(`${target(account)}#${i}`);
      if (part === null) throw new Error(`Credential Manager lost part ${i} of the secret "${account}"; store it again`);
      parts.push(part);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  async set(account: string, secret: string): Promise<void> {
    const bytes = Buffer.from(secret, 'utf8');
    const previous = await this.chunkCount(account);
    if (bytes.length <= WINCRED_MAX_BLOB_BYTES && !CHUNKED.test(secret)) {
      await this.api.write(target(account), bytes);
    } else {
      const count = Math.ceil(bytes.length / WINCRED_MAX_BLOB_BYTES);
      // Parts first, the head last: a reader never sees a head pointing at missing parts.
      for (let i = 0; i < count; i++) {
        await this.api.write(`${target(account)}#${i + 1}`, bytes.subarray(i * WINCRED_MAX_BLOB_BYTES, (i + 1) * WINCRED_MAX_BLOB_BYTES));
      }
      await this.api.write(target(account), Buffer.from(`chunks:${count}`, 'latin1'));
      for (let i = count + 1; i <= previous; i++) await this.api.delete(`${target(account)}#${i}`);
      return;
    }
    for (let i = 1; i <= previous; i++) await this.api.delete(`${target(account)}#${i}`);
  }

  async delete(account: string): Promise<void> {
    const count = await this.chunkCount(account);
    await this.api.delete(target(account));
    for (let i = 1; i <= count; i++) await this.api.delete(`${target(account)}#${i}`);
  }

  private async chunkCount(account: string): Promise<number> {
    const head = await this.api.read(target(account));
    const chunked = head ? CHUNKED.exec(head.toString('latin1')) : null;
    return chunked ? Number(chunked[1]) : 0;
  }
}

function target(account: string): string {
  return `causeway:${account}`;
}
