// Argument parsing on node:util's parseArgs, with nnzip's error style.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fail } from '../ir/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Common flags every command accepts. */
export const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
};

export function parse(command: string, argv: string[], options: Options): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    fail(`${command}: ${(e as Error).message.split('\n')[0]}; see \`nnzip ${command} --help\``);
  }
}

export function str(p: Parsed, key: string): string | undefined {
  const v = p.values[key];
  return typeof v === 'string' ? v : undefined;
}

/** A numeric option, checked against [min, max]. */
export function num(p: Parsed, key: string, dflt: number, min = -Infinity, max = Infinity, integer = false): number {
  const raw = str(p, key);
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    const kind = integer ? 'an integer' : 'a number';
    fail(`--${key} ${raw}: must be ${kind} in [${min}, ${max}]`);
  }
  return v;
}

export function choice<T extends string>(p: Parsed, key: string, allowed: readonly T[], dflt?: T): T | undefined {
  const raw = str(p, key);
  if (raw === undefined) return dflt;
  if (!allowed.includes(raw as T)) fail(`--${key} ${raw}: choose one of ${allowed.join(', ')}`);
  return raw as T;
}

/** Exactly one positional MODEL argument. */
export function oneModel(command: string, p: Parsed): string {
  if (p.positionals.length !== 1) fail(`${command}: expected one MODEL argument, got ${p.positionals.length}; see \`nnzip ${command} --help\``);
  return p.positionals[0];
}
