import { readSync } from 'node:fs';

/**
 * Reads up to `size` bytes from an open file descriptor, looping over short reads. The caller has
 * already checked with fstat that it is a regular file within its size limit; a file that shrank
 * meanwhile yields what was there.
 */
export function readFd(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let read = 0;
  while (read < size) {
    const n = readSync(fd, buf, read, size - read, read);
    if (n === 0) break;
    read += n;
  }
  return buf.subarray(0, read);
}
