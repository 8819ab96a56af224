import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfileError } from '../../app/profile/index.js';
import { folderReader, MAX_REFERENCE_BYTES } from './reference-reader.js';

let root: string;
let folder: string;
let read: ReturnType<typeof folderReader>;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cw-ref-'));
  folder = join(root, 'profile');
  mkdirSync(join(folder, 'keys'), { recursive: true });
  writeFileSync(join(root, 'secret.txt'), 'outside');
  writeFileSync(join(folder, 'ca.crt'), 'CA TEXT');
  writeFileSync(join(folder, 'keys', 'ta.key'), 'TA TEXT');
  writeFileSync(join(folder, 'profile.ovpn'), '');
  symlinkSync(join(root, 'secret.txt'), join(folder, 'link-out.crt'));
  symlinkSync(join(folder, 'ca.crt'), join(folder, 'link-in.crt'));
  symlinkSync(root, join(folder, 'dir-out'));
  execFileSync('mkfifo', [join(folder, 'fifo.crt')]);
  writeFileSync(join(folder, 'huge.crt'), Buffer.alloc(MAX_REFERENCE_BYTES + 1, 0x41));
  writeFileSync(join(folder, 'binary.key'), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
  read = folderReader(join(folder, 'profile.ovpn'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const refusal = (ref: string): string => {
  try {
    read(ref, 'ca', 1);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    return (e as ProfileError).reason;
  }
  throw new Error(`${ref} was read`);
};

describe('folderReader', () => {
  it('reads files in the profile folder and below, and links that stay inside', () => {
    const text = (ref: string) => Buffer.from(read(ref, 'ca', 1)).toString('utf8');
    expect(text('ca.crt')).toBe('CA TEXT');
    expect(text('keys/ta.key')).toBe('TA TEXT');
    expect(text('./keys/../ca.crt')).toBe('CA TEXT');
    expect(text(join(folder, 'ca.crt'))).toBe('CA TEXT');
    expect(text('link-in.crt')).toBe('CA TEXT');
    // Bytes as they are: PKCS#12 files are binary.
    expect([...read('binary.key', 'pkcs12', 1) as Uint8Array]).toEqual([0xff, 0xfe, 0x00, 0x41]);
  });

  it('refuses paths that leave the folder', () => {
    expect(refusal('../secret.txt')).toMatch(/outside the profile's folder/);
    expect(refusal('keys/../../secret.txt')).toMatch(/outside the profile's folder/);
    expect(refusal('/etc/passwd')).toMatch(/outside the profile's folder/);
    expect(refusal('/dev/zero')).toMatch(/outside the profile's folder/);
  });

  it('refuses symbolic links out, devices and pipes, huge files and missing files', () => {
    expect(refusal('link-out.crt')).toMatch(/symbolic link that points outside/);
    expect(refusal('dir-out/secret.txt')).toMatch(/link that leaves the profile's folder/);
    expect(refusal('fifo.crt')).toMatch(/not a regular file/);
    expect(refusal('keys')).toMatch(/not a regular file/);
    expect(refusal('huge.crt')).toMatch(/larger than 1048576 bytes/);
    expect(refusal('missing.crt')).toMatch(/does not exist/);
  });
});
