// The real ReadReference for app/profile: reads files a profile names (`ca ca.crt`) from the
// profile's own folder, and nothing else. Refused, each with a reason: paths that leave the
// folder (`../`, absolute paths elsewhere), symbolic links that point out of it, anything that
// is not a regular file (devices, FIFOs, directories), and files over MAX_REFERENCE_BYTES.
// It returns bytes: PKCS#12 files are binary; app/profile checks that PEM files are text.
import { closeSync, constants, fstatSync, lstatSync, openSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ProfileError, type ReadReference } from '../../app/profile/index.js';
import { readFd } from './read-fd.js';

/** Certificates and keys are a few KB; CA bundles rarely exceed 300 KB. */
export const MAX_REFERENCE_BYTES = 1024 * 1024;

function inside(base: string, path: string): boolean {
  const rel = relative(base, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** A reader confined to the folder that holds `profilePath`. */
export function folderReader(profilePath: string, maxBytes = MAX_REFERENCE_BYTES): ReadReference {
  const base = realpathSync(dirname(resolve(profilePath)));
  return (ref) => {
    if (ref.includes('\0') || ref === '') throw new ProfileError(`"${ref}" is not a file name`);
    const candidate = resolve(base, ref);
    if (!inside(base, candidate)) {
      throw new ProfileError(`the file "${ref}" is outside the profile's folder; only files next to the profile are read`);
    }
    let real: string;
    try {
      const link = lstatSync(candidate);
      real = realpathSync(candidate);
      if (link.isSymbolicLink() && !inside(base, real)) {
        throw new ProfileError(`the file "${ref}" is a symbolic link that points outside the profile's folder`);
      }
    } catch (e) {
      if (e instanceof ProfileError) throw e;
      throw new ProfileError(`the file "${ref}" does not exist next to the profile`);
    }
    if (!inside(base, real)) {
      throw new ProfileError(`the file "${ref}" is reached through a link that leaves the profile's folder`);
    }
    // O_NOFOLLOW + fstat on the opened descriptor: what we check is what we read.
    // O_NONBLOCK keeps a FIFO from blocking the open; fstat then rejects it.
    let fd: number;
    try {
      fd = openSync(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    } catch {
      throw new ProfileError(`the file "${ref}" cannot be opened`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new ProfileError(`"${ref}" is not a regular file (a device, folder or pipe)`);
      if (st.size > maxBytes) {
        throw new ProfileError(`the file "${ref}" is ${st.size} bytes; referenced files larger than ${maxBytes} bytes are refused`);
      }
      return readFd(fd, st.size);
    } finally {
      closeSync(fd);
    }
  };
}
