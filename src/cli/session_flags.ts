// Session options shared by the commands that run a model on the fast runtime (eval, validate).
import type { WinogradMode } from '../compile/plan_types.js';
import { WINOGRAD_TILES } from '../ir/winograd.js';
import { choice, num, type Options, type Parsed } from './args.js';

export const SESSION_FLAGS: Options = {
  threads: { type: 'string' },
  winograd: { type: 'string' },
};

export const SESSION_HELP = `  --threads N      worker threads of the session (default 1)
  --winograd W     3×3 stride-1 convs: auto (the cost model picks per layer; default),
                   off, on (wherever it applies), or a tile ${WINOGRAD_TILES.join(' | ')} (F(m,3) wherever it applies)`;

/** The session options the flags give. */
export function sessionFlags(p: Parsed): { threads: number; winograd: WinogradMode } {
  const w = choice(p, 'winograd', ['auto', 'off', 'on', ...WINOGRAD_TILES.map(String)], 'auto')!;
  return { threads: num(p, 'threads', 1, 1, 64, true), winograd: /^\d$/.test(w) ? (Number(w) as WinogradMode) : (w as WinogradMode) };
}
