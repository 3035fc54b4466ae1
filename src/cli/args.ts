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

/**
 * `--epochs -1`: parseArgs would take "-1" for an option and stop; joined into
 * `--epochs=-1` it reaches the option's own range check, which names it.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (takesValue.has(argv[i]) && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(argv[i].startsWith('--') ? `${argv[i]}=${next}` : `${argv[i]}${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

export function parse(command: string, argv: string[], options: Options): Parsed {
  const all = { ...COMMON, ...options };
  try {
    const r = parseArgs({ args: joinNegativeValues(argv, all), options: all, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    // node's first sentence ("Unknown option '--x'"); the rest is advice for other programs
    const first = (e as Error).message.split('\n')[0].split(/\.\s/)[0].replace(/\.$/, '');
    fail(`${command}: ${first}; see \`nnzip ${command} --help\``);
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
