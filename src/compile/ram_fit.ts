// C target, `optimize: 'ram'`: the padded copies of the pattern convs (conv_layout.ts
// cPatternPlanes) sized so that none raises the arena's peak. Every padded pattern conv is
// first planned as the in-place weight-axpy kernel ('taps': no copy; scratch only for a fused
// pool's band of conv rows); at each of them the room under that plan's peak (the peak minus
// the buffers live across the step) then takes the largest band of padded rows that fits (the
// whole plane when it does, with its shifted copies when they fit too), and a step where not
// even the smallest band fits stays in place.
// 'time' copies whole planes: the fastest kernels, up to twice the RAM on VGG-like models.
import { fail } from '../ir/errors.js';
import { convBand, cPatternBands, cPatternPlanes } from './conv_layout.js';
import type { ConvStep, MemoryPlan, PlanStep } from './plan_types.js';

/** How the C target trades RAM for speed: 'ram' (default) keeps the arena's peak, 'time' takes the fastest kernels. */
export type COptimize = 'ram' | 'time';

export const C_OPTIMIZE: readonly COptimize[] = ['ram', 'time'];

export function checkOptimize(where: string, v: unknown): void {
  if (v !== undefined && !C_OPTIMIZE.includes(v as COptimize)) fail(`${where}: optimize=${JSON.stringify(v)}; use ${C_OPTIMIZE.map((m) => `'${m}'`).join(' or ')}`);
}

/** The pattern conv run in place by the weight-axpy kernel; false when it cannot be (a fused pool it cannot band). */
function runInPlace(s: ConvStep): boolean {
  const band = s.pool && convBand(s, s.pool);
  if (s.pool && !band) return false;
  Object.assign(s, { cKernel: 'taps', band: band || undefined, patternRows: undefined, scratch: band ? band.rows * s.OW * 4 : 0 });
  return true;
}

function runBanded(s: ConvStep, rows: number, shifted: boolean | undefined = false): void {
  Object.assign(s, { cKernel: 'pattern', band: undefined, patternRows: rows, patternShifted: shifted, scratch: cPatternPlanes(s, rows, shifted).bytes });
}

/** Sizes the padded copies of the pattern convs in `steps` (see above); `plan` plans the steps' memory as they stand. */
export function fitPatternScratch(steps: PlanStep[], plan: () => MemoryPlan): void {
  const convs = steps.flatMap((s, i) => (s.kind === 'conv' && s.cKernel === 'pattern' && cPatternPlanes(s).padded ? [{ s, i }] : []));
  if (convs.length === 0) return;
  // a conv that cannot run in place (a fused pool it cannot band) takes its smallest band
  const movable: typeof convs = [];
  for (const c of convs) {
    if (runInPlace(c.s)) movable.push(c);
    else runBanded(c.s, cPatternBands(c.s)[0]);
  }
  const base = plan();
  for (const { s, i } of movable) {
    const live = base.buffers.filter((b) => b.role !== 'scratch' && b.first <= i && i <= b.last).reduce((n, b) => n + b.bytes, 0);
    const room = base.regionBytes - live;
    const choices: [number, boolean | undefined][] = [[s.OH, undefined], ...cPatternBands(s).reverse().map((rows): [number, boolean | undefined] => [rows, false])];
    const fit = choices.find(([rows, shifted]) => cPatternPlanes(s, rows, shifted).bytes <= room);
    if (fit) runBanded(s, ...fit);
    else runInPlace(s);
  }
  for (const { s } of convs) {
    if (s.cKernel === 'taps') s.reason += '; runs in place (the weight-axpy kernel): a padded copy would raise the RAM peak (optimize ram)';
    else if ((s.patternRows ?? s.OH) < s.OH) s.reason += `; bands of ${s.patternRows} rows: a whole padded copy would raise the RAM peak (optimize ram)`;
  }
}
