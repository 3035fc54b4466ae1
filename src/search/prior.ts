// The guided strategy's prior: every single move of the space — one gene of one layer
// set to one of its options, everything else as given — applied without fine-tuning,
// with its held-out accuracy drop and the part of the target's figure it saves. No
// training, so it is cheap next to one candidate; it tells the greedy start how to
// spend the loss budget (the most saved per accuracy lost first, as HAWQ/NNCF and
// AMC's per-layer probes do) and the mutations which gene of which layer to move.
import { sessionAccuracy } from '../eval/runners.js';
import { compressUntuned, latencyOf, type Problem } from './evaluate.js';
import { GENES, isRepaired, type Candidate, type Gene, type LayerChoice, type Space } from './space.js';
import type { TargetKind } from './targets.js';

/** One layer's gene at one option (index into the layer's options, ≥ 1), applied alone. */
export interface Move {
  layer: number;
  gene: Gene;
  option: number;
  /** Held-out accuracy lost (a fraction; negative = gained). Infinity when the move fails. */
  drop: number;
  /** Part of the unchanged model's figure (size or latency) the move saves (a fraction). */
  gain: number;
}

export interface Prior {
  /** What the gains measure. */
  kind: 'size' | 'latency';
  /** The unchanged model's figure (bytes or ms) the gains are parts of (absent in states saved before it was kept). */
  figure?: number;
  moves: Move[];
  seconds: number;
}

/** The candidate with every layer as given (option 0 of each gene). */
export function unchanged(space: Space): Candidate {
  return { layers: space.layers.map((l) => Object.fromEntries(GENES.map((g) => [g, l[g][0]])) as unknown as LayerChoice), winograd: 0 };
}

/** `c` with one layer's gene set to option `option` (quantized with the space's first scheme when the gene is quant). */
export function withMove(space: Space, c: Candidate, layer: number, gene: Gene, option: number): Candidate {
  const layers = c.layers.map((ch, i) => (i === layer ? { ...ch, [gene]: space.layers[i][gene][option] } : ch));
  const quantize = c.quantize ?? (gene === 'quant' ? space.quantize.find((q) => q !== undefined) : undefined);
  return { layers, winograd: c.winograd, ...(quantize ? { quantize } : {}) };
}

/** Size (bytes) or latency (ms) and held-out accuracy of a candidate compressed without fine-tuning. */
async function probe(p: Problem, c: Candidate, kind: Prior['kind']): Promise<{ figure: number; accuracy: number }> {
  const { bytes, graph: g } = compressUntuned(p, c);
  const accuracy = (await sessionAccuracy(g, p.data.test)).accuracy;
  return { figure: kind === 'size' ? bytes.length : await latencyOf(g, p.spec.latency, p.latencyMemo, p.spec.threads), accuracy };
}

/** What a prior's gains measure for a target (flash: size, its constant data is the file's weights). */
export const gainKind = (target: TargetKind): Prior['kind'] => (target === 'latency' ? 'latency' : 'size');

/** The unchanged model's size (bytes) or latency (ms), compressed as a candidate is. */
export async function unchangedFigure(p: Problem, kind: Prior['kind']): Promise<number> {
  return (await probe(p, unchanged(p.space), kind)).figure;
}

/** Every move of the space measured alone. */
export async function computePrior(p: Problem, target: TargetKind, onMove?: (done: number, total: number) => void): Promise<Prior> {
  const t0 = performance.now();
  const kind = gainKind(target);
  const base = unchanged(p.space);
  const figure = await unchangedFigure(p, kind);
  const todo: (Omit<Move, 'drop' | 'gain'> & { c: Candidate })[] = [];
  p.space.layers.forEach((l, layer) => {
    for (const gene of GENES) {
      for (let option = 1; option < l[gene].length; option++) {
        const c = withMove(p.space, base, layer, gene, option);
        if (isRepaired(c)) todo.push({ layer, gene, option, c }); // else not a move on its own
      }
    }
  });
  const moves: Move[] = [];
  for (const [i, { c, ...m }] of todo.entries()) {
    try {
      const r = await probe(p, c, kind);
      moves.push({ ...m, drop: p.baseline - r.accuracy, gain: 1 - r.figure / figure });
    } catch {
      moves.push({ ...m, drop: Infinity, gain: 0 }); // e.g. calibration of a layer this move makes constant
    }
    onMove?.(i + 1, todo.length);
  }
  return { kind, figure, moves, seconds: (performance.now() - t0) / 1000 };
}

/** The measured move of a layer's gene at an option (option 0 = unchanged: no drop, no gain). */
export function moveOf(prior: Prior, layer: number, gene: Gene, option: number): Move | undefined {
  if (option === 0) return { layer, gene, option, drop: 0, gain: 0 };
  return prior.moves.find((m) => m.layer === layer && m.gene === gene && m.option === option);
}
