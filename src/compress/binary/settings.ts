// The binarize stage's settings (a recipe's `binarize` section, `nnzip binarize`'s
// flags) and their checks: one clear line naming the option on bad input.
import { fail } from '../../ir/errors.js';
import type { LayerKind } from '../layers.js';
import { checkTtqThreshold, checkTwnDelta, TTQ_THRESHOLD, TWN_DELTA } from './transforms.js';
import type { XnorScaling } from './xnor_graph.js';

/**
 * bwn: binary weights (α·sign(W) per output channel), float activations;
 * xnor: binary weights and binary activations (XNOR-Net);
 * twn: ternary weights, Δ = delta·mean|W|; ttq: ternary weights with trained scales Wp, Wn.
 */
export const BINARY_METHODS = ['bwn', 'xnor', 'twn', 'ttq'] as const;
export type BinaryMethod = (typeof BINARY_METHODS)[number];

export interface BinarizeSettings {
  /** Method per layer kind; 'none' keeps that kind float. Per-layer `binary` settings override it. */
  method: Record<LayerKind, BinaryMethod | 'none'>;
  /** Binarize the first / last layer too (they stay float by default, as in XNOR-Net and Larq's zoo). */
  first: boolean;
  last: boolean;
  /** TWN's threshold factor (Δ = delta·mean|W|). */
  delta: number;
  /** TTQ's threshold (Δ = threshold·max|W|). */
  threshold: number;
  /** XNOR-Net's activation scaling: per output channel only, or XNOR-Net's per-position K too. */
  scaling: XnorScaling;
  /** Insert a BatchNormalization before each Sign whose input has none (XNOR). */
  batchNorm: boolean;
  /** Fine-tuning epochs with the binary weights (0 = binarize only). */
  epochs: number;
}

export const BINARIZE_DEFAULTS: BinarizeSettings = {
  method: { conv: 'bwn', fc: 'bwn' }, first: false, last: false, delta: TWN_DELTA, threshold: TTQ_THRESHOLD,
  scaling: 'channel', batchNorm: true, epochs: 10,
};

export function checkMethod(where: string, m: unknown, none: boolean): BinaryMethod | 'none' {
  const ok = (BINARY_METHODS as readonly unknown[]).includes(m) || (none && m === 'none');
  if (!ok) fail(`${where} "${String(m)}" must be one of ${BINARY_METHODS.join(', ')}${none ? ' or none' : ''}`);
  return m as BinaryMethod | 'none';
}

export function checkBinarize(b: BinarizeSettings, source: string): void {
  for (const k of ['conv', 'fc'] as const) checkMethod(`${source}: binarize.method.${k}`, b.method?.[k], true);
  for (const k of ['first', 'last', 'batchNorm'] as const) {
    if (typeof b[k] !== 'boolean') fail(`${source}: binarize.${k} ${JSON.stringify(b[k])} must be true or false`);
  }
  checkTwnDelta(b.delta, `${source}: binarize.delta`);
  checkTtqThreshold(b.threshold, `${source}: binarize.threshold`);
  if (b.scaling !== 'channel' && b.scaling !== 'position') fail(`${source}: binarize.scaling "${b.scaling}" must be channel or position`);
  if (!(typeof b.epochs === 'number' && b.epochs >= 0 && b.epochs <= 1000)) fail(`${source}: binarize.epochs ${JSON.stringify(b.epochs)} must be a number in [0, 1000]`);
}
