// What a generated pattern-conv module is specialised to: the layer's geometry,
// its patterns and the variant of the code (the auto-tuner's search space), and
// the keys modules and tuned variants are cached under.

/**
 * The layer's geometry: a 3×3 window, stride S (1, or 2 in the plane layouts), no dilation; the
 * padded image is PH × PW.
 */
export interface PatternGeometry {
  C: number; H: number; W: number; OH: number; OW: number;
  padT: number; padL: number;
  PH: number; PW: number;
  S: number;
}

/**
 * storage  'fkw': one channel index per kernel, taps from the pattern (code); 'csr': one offset per weight
 * layout   'rows': tiles of rows × vecs f32x4 accumulators in registers, kernels inside;
 *          'plane': kernel-major over the whole output plane (pattern_plane_codegen.ts; pads of 1 each side);
 *          'pairs': the plane's passes over groups of `rows` filters, two kernels of one input
 *          channel per pass where they share taps (pattern_pairs.ts)
 * lre      ('rows') each input vector loaded once per tile for every tap and row that reads it
 * order    ('rows') filters outside tiles or tiles outside filters
 * unroll   kernels per loop iteration (1 or 2 of the same pattern; 'plane' also 4; 'pairs' 1)
 * vecs     ('plane', 'pairs') vectors per loop iteration of a pass
 */
export interface PatternVariant {
  storage: 'fkw' | 'csr';
  layout: 'rows' | 'plane' | 'pairs';
  rows: number;
  vecs: number;
  lre: boolean;
  order: 'filter' | 'tile';
  unroll: 1 | 2 | 4;
}

export interface PatternModuleSpec {
  geo: PatternGeometry;
  /** The layer's pattern masks (bit ky·3 + kx), in FKW order ('fkw' storage). */
  masks: readonly number[];
  variant: PatternVariant;
  /** ('pairs') the pattern pairs [p, q] with code, in the order each group runs them (pattern_pairs.ts). */
  pairKinds?: readonly (readonly [number, number])[];
  /** f32x4.relaxed_madd (relaxed SIMD) instead of mul + add. */
  fma: boolean;
  /** A 2×2 stride-2 max pool fused into the pad step: the input is H0 × W0 (H = ⌊H0/2⌋, W = ⌊W0/2⌋). */
  maxPool?: FusedPool;
  shared: boolean;
}

export interface FusedPool { H0: number; W0: number }

export const PATTERN_EXPORTS = {
  /**
   * (x, xpad, c0, c1, y0, y1): planes c0..c1 of the input [C, H, W] into the zero-padded [C, PH, PW]
   * (plane layouts: each channel's S² phase planes), the rows that output rows y0..y1 read.
   */
  pad: 'pad',
  /**
   * (xpad, y, r0, r1, rowOut, rowBias, rowIdx, rowW, stride, index, weights, clampAt, acc, y0, y1, groups): FKW rows r0..r1
   * ('pairs': groups r0..r1, group g's rows from groups[g] (i32) to groups[g + 1]; others ignore `groups`),
   * output rows y0..y1 ('rows' layout: always the whole plane, 0..OH).
   * Per row r: rowOut[r] byte offset of its output plane from y, rowBias[r] its bias, rowIdx[r] / rowW[r]
   * byte offsets of its first index and weight; stride[r·K + p] its kernels of pattern p ('csr': stride[r]
   * its weights); index: channel byte offsets in xpad ('csr': channel + tap byte offsets); clampAt 0 = none.
   */
  conv: 'conv',
  /** (at, bytes): one load per cache line of at..at + bytes (their or): the lines fetched together, before the conv stores to them. */
  touch: 'touch',
} as const;

/** Floats read past the padded planes by the last tile (vector over-reads of the last row). */
export function padSlackFloats(g: PatternGeometry): number {
  return 2 * g.PW + 4 * Math.ceil(g.OW / 4) + 8;
}

export function patternVariantKey(v: PatternVariant): string {
  return `${v.storage}:${v.layout}:r${v.rows}v${v.vecs}:${v.lre ? 'lre' : 'nolre'}:${v.order}:u${v.unroll}`;
}

/** Whether a variant pads into the plane layout's planes (pitch W + 1). */
export const planePadded = (v: PatternVariant): boolean => v.layout !== 'rows';

export function patternModuleKey(s: PatternModuleSpec): string {
  const g = s.geo;
  return `pattern:${g.C}x${g.H}x${g.W}:o${g.OH}x${g.OW}:s${g.S}:p${g.padT},${g.padL}:${g.PH}x${g.PW}:` +
    `${s.variant.storage === 'fkw' ? s.masks.join(',') : 'any'}:${patternVariantKey(s.variant)}:${s.fma ? 'fma' : 'muladd'}:` +
    `${s.pairKinds ? `pairs${s.pairKinds.map(([p, q]) => `${p}.${q}`).join(',')}:` : ''}` +
    `${s.maxPool ? `maxpool${s.maxPool.H0}x${s.maxPool.W0}:` : ''}${s.shared ? 'shared' : 'private'}`;
}

