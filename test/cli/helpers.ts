// Runs the real CLI (bin/nnzip.js) in a child process, as a user would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MODELS = join(ROOT, 'fixtures/models');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function nnzip(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/nnzip.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nnzip-test-'));
}

/**
 * The bad-input contract: exit 2, exactly one `nnzip: error:` line and it is the
 * last (progress lines may come before it), no stack trace.
 */
export function assertOneLineError(r: CliResult, mustMention: RegExp): string | undefined {
  const lines = r.stderr.trim().split('\n');
  const errors = lines.filter((l) => l.startsWith('nnzip: error: '));
  if (r.code !== 2) return `exit code ${r.code}, want 2; stderr: ${r.stderr}`;
  if (errors.length !== 1 || errors[0] !== lines.at(-1)) return `want one error line, last; got: ${r.stderr}`;
  if (lines.some((l) => /^\s+at /.test(l))) return `stack trace printed: ${r.stderr}`;
  if (!mustMention.test(errors[0])) return `error line ${JSON.stringify(errors[0])} does not match ${mustMention}`;
  return undefined;
}
