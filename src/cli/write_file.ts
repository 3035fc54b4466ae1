// Writes land whole or not at all: temp file in the same folder, then rename.
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { fail } from '../ir/errors.js';

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing was written */
    }
    fail(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose a writable output path`);
  }
}
