// What a command writes. Before any work: every output is checked to be writable and
// to collide neither with another output nor with an input (a report written over the
// model would destroy it). While it works: outputs are staged in temp files next to
// their targets (written and fsynced). At the end: renamed into place together, so a
// command leaves all its outputs or none.
import { closeSync, existsSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail } from '../ir/errors.js';

export interface OutputSpec {
  /** The flag that named it, for error messages (e.g. `--report`). */
  flag: string;
  path: string;
}

/** Fails unless `path` ends in `ext` (any letter case, as the file systems of most users treat it). */
export function requireExtension(path: string, flag: string, ext: string): void {
  if (!path.toLowerCase().endsWith(ext)) fail(`${flag} ${path}: the output must end in ${ext}`);
}

/** Same file: same resolved path, same real path, or (hard links) the same inode. */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  if (!existsSync(a) || !existsSync(b)) return false;
  if (realpathSync(a) === realpathSync(b)) return true;
  const [sa, sb] = [statSync(a), statSync(b)];
  return sa.dev === sb.dev && sa.ino === sb.ino;
}

const tempOf = (path: string): string => `${path}.${process.pid}.tmp`;

function cannotWrite(o: OutputSpec, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  const why = code === 'ENOENT' ? `its folder ${dirname(o.path)} does not exist` : code === 'EISDIR' ? 'it is a folder' : `cannot write (${code})`;
  fail(`${o.flag} ${o.path}: ${why}; choose a writable output path`);
}

/** Writes `data` to `path`'s temp file and flushes it to disk; returns the temp path. */
function writeTemp(o: OutputSpec, data: Uint8Array | string): string {
  const tmp = tempOf(o.path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    return tmp;
  } catch (e) {
    removeTemp(tmp);
    return cannotWrite(o, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function removeTemp(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    /* never written */
  }
}

/** The folder's entry for a renamed file reaches the disk too (best effort: not every platform syncs folders). */
function syncFolder(path: string): void {
  try {
    const fd = openSync(dirname(resolve(path)), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* the rename itself is atomic; this only orders it on disk */
  }
}

/**
 * Checks a command's outputs before it starts: no two the same, none an input, each
 * writable (a probe file is created and removed in its folder; a folder is refused).
 */
export function checkOutputs(command: string, inputs: string[], outputs: OutputSpec[]): void {
  outputs.forEach((o, i) => {
    for (const other of outputs.slice(0, i)) {
      if (sameFile(o.path, other.path)) fail(`${command}: ${o.flag} ${o.path} is the same file as ${other.flag}; give them different paths`);
    }
    for (const input of inputs) {
      if (sameFile(o.path, input)) fail(`${command}: ${o.flag} ${o.path} is the input ${input}; writing it would destroy the input, so choose another path`);
    }
    if (existsSync(o.path) && statSync(o.path).isDirectory()) cannotWrite(o, { code: 'EISDIR' });
    removeTemp(writeTemp(o, ''));
  });
}

/** Output sets not committed yet: the CLI removes their temp files when a command ends without committing. */
const pending = new Set<Outputs>();

export function discardPending(): void {
  for (const o of pending) o.discard();
}

/** A command's outputs: checked now, staged as the command produces them, renamed into place by commit(). */
export class Outputs {
  private readonly staged = new Map<string, { spec: OutputSpec; tmp: string }>();

  constructor(command: string, inputs: string[], private readonly specs: OutputSpec[]) {
    checkOutputs(command, inputs, specs);
    pending.add(this);
  }

  /** Writes one output's content to its temp file (nothing visible until commit). */
  stage(path: string, data: Uint8Array | string): void {
    const spec = this.specs.find((s) => s.path === path);
    if (!spec) throw new Error(`outputs: ${path} was not declared`);
    this.staged.set(path, { spec, tmp: writeTemp(spec, data) });
  }

  commit(): void {
    for (const { spec, tmp } of this.staged.values()) {
      try {
        renameSync(tmp, spec.path);
      } catch (e) {
        this.discard();
        cannotWrite(spec, e);
      }
      syncFolder(spec.path);
    }
    this.staged.clear();
    pending.delete(this);
  }

  discard(): void {
    for (const { tmp } of this.staged.values()) removeTemp(tmp);
    this.staged.clear();
    pending.delete(this);
  }
}

/** One file written whole or not at all (temp file, fsync, rename): for checkpoints rewritten as a command runs. */
export function writeFileAtomic(path: string, data: Uint8Array | string, flag = '-o'): void {
  const spec = { flag, path };
  const tmp = writeTemp(spec, data);
  try {
    renameSync(tmp, path);
  } catch (e) {
    removeTemp(tmp);
    cannotWrite(spec, e);
  }
  syncFolder(path);
}
