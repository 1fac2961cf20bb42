// A full disk for the fault tests: a tmpfs of the test's own, filled for real (no mock of ENOSPC).
import { closeSync, openSync, writeSync } from 'node:fs';

/** Fills the file system of `path` up to its last byte. */
export function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}
