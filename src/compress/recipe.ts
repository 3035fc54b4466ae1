// Recipes: what to do to which layer, as data (YAML or JSON files, or built-ins).
// A recipe is validated whole before any work starts, so a typo fails in a second.
import { fail } from '../ir/errors.js';
import { checkDistill } from '../train/loss.js';
import { isWinogradTile, WINOGRAD_TILES, type WinogradTile } from '../ir/winograd.js';
import type { Layer, LayerKind } from './layers.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from './quantize/calibrate.js';
import { findLayer } from './layers.js';
import { BINARIZE_DEFAULTS, checkBinarize, checkMethod, type BinarizeSettings, type BinaryMethod } from './binary/settings.js';

export interface LayerSettings {
  /** Fraction of weights kept, in (0, 1]. */
  density?: number;
  /** Weight-sharing bits (codebook of 2^bits centroids), 1–16. */
  bits?: number;
  /** Bits per relative index of sparse storage, 1–16 (encoder picks the best when absent). */
  indexBits?: number;
  /** Pattern count K of this layer (3×3 convs; the pattern stage's default otherwise). */
  patterns?: number;
  /** Connectivity rate of this layer: kernels kept = kernels / rate (the pattern stage's default otherwise). */
  connectivity?: number;
  /** Fraction of filters (output channels, neurons) kept, in (0, 1]; the others are removed from the graph. */
  filters?: number;
  /** Weight bits of this layer in the quantize stage, over quantize.bits ('float' = this layer left float). */
  quantize?: number | 'float';
  /** Binary / ternary method of this layer ('none' = float), over the binarize section's default. */
  binary?: BinaryMethod | 'none';
  /** Leave this layer dense and unshared. */
  skip?: boolean;
}

/** ADMM (Zhang et al.): `rounds` of `epochsPerRound` epochs on loss + ρ/2‖W − Z + U‖², ρ × rhoGrowth after each. */
export interface AdmmSettings {
  rounds: number;
  epochsPerRound: number;
  rho: number;
  rhoGrowth: number;
}

/**
 * Co-design: K and the connectivity rate of each layer chosen from these candidates so
 * that the layers' time as the compiler measures it (latencyUs, µs per image, one
 * thread) or their stored bytes (sizeBytes) meet the target; accuracyBound: the lowest
 * test accuracy (0..1) the result must keep, checked after retraining.
 */
export interface CodesignSettings {
  latencyUs?: number;
  sizeBytes?: number;
  accuracyBound?: number;
  patterns: number[];
  connectivity: number[];
}

export const CODESIGN_CANDIDATES = { patterns: [4, 6, 8, 12], connectivity: [1, 2, 3, 3.6, 4.5, 6] };

export interface PatternSettings {
  /** Patterns per layer (or per model), K = 1..56. */
  patterns: number;
  /** Connectivity pruning rate: kernels kept = kernels / rate (1 = none). */
  connectivity: number;
  /** One pattern set for every layer ('model') or one per layer. */
  scope: 'model' | 'layer';
  /** 3×3 convs with fewer input channels are left dense unless named in `layers` (a first layer over image channels). */
  minChannels: number;
  /** ADMM before the hard projection; absent = one-shot projection. */
  admm?: AdmmSettings;
  /** Masked retraining epochs after the projection. */
  epochs: number;
  /** Per-layer K and rate from a latency or size target (the layers' own settings are then ignored). */
  codesign?: CodesignSettings;
}

export interface Recipe {
  name: string;
  /**
   * Dense fine-tuning of the input model before the other stages (train's settings, without
   * distillation): they start from the model it leaves, and train.distill distils from it, a
   * teacher trained with the same augmentation as the student.
   */
  finetune?: { epochs: number };
  pattern?: PatternSettings;
  /** Filter / neuron pruning (Li et al. 2017): the lowest-norm filters are removed physically, then fine-tuning. */
  filters?: {
    /** Per kind defaults of the fraction kept (layers that cannot be thinned are left out); `layers` overrides per layer. */
    keep: Partial<Record<LayerKind, number>>;
    norm: 'l1' | 'l2';
    epochs: number;
  };
  prune?: {
    /** Per kind defaults (absent = 1, not pruned); `layers` overrides per layer. */
    density: Partial<Record<LayerKind, number>>;
    /** oneshot: prune once then fine-tune; stages: N equal steps; agp: gradual cubic schedule. */
    schedule: 'oneshot' | 'stages' | 'agp';
    stages: number;
    epochsPerStage: number;
  };
  share?: {
    /** Per kind defaults (absent = not shared); `layers` overrides per layer. */
    bits: Partial<Record<LayerKind, number>>;
    init: 'linear' | 'density' | 'random';
    epochs: number;
    /**
     * Learning rate of the centroid fine-tune (default train.lr). Each centroid moves by
     * lr × the summed gradient of its weights (Han et al.), so the step grows with the
     * cluster: a dense layer's clusters (12.5k weights each in LeNet-5's fc1 at 5 bits)
     * diverge at an lr a pruned layer's (~400 each) takes; give those a smaller one.
     */
    lr?: number;
    /**
     * Caps the centroid fine-tune's lr at maxStep / (weights of the largest cluster), once the
     * clusters are known: the search sets it, whose candidates share layers of any size and density
     * (LeNet-5's fc1 kept its accuracy at 0.001 × 12.5k; VGG-S's pruned fc1 collapsed at 0.001 × 37.7k).
     */
    maxStep?: number;
  };
  /**
   * Quantization after pruning and sharing (compress/quantize): int8 or dynamic fixed
   * point, activation ranges from `samples` training images, then `epochs` of
   * quantization-aware training (0 = post-training only). Skipped layers stay float.
   */
  quantize?: {
    scheme: 'int8' | 'fixed';
    bits: number;
    actBits?: number;
    calibrate: CalibrationMethod;
    samples: number;
    epochs: number;
  };
  /** Binary and ternary weights (and XNOR-Net's binary activations), after pruning (compress/binary). */
  binarize?: BinarizeSettings;
  /** Store the 3×3 stride-1 conv filters left dense as their Winograd F(tile,3) transforms (larger file, no transform at load). */
  winograd?: { tile: WinogradTile };
  /**
   * shift: augmentation by random shifts of up to this many pixels (0 = off); flip: random horizontal flips (images whose classes survive a mirror, e.g. Fashion-MNIST, not digits).
   * batchnorm: 'refold' trains every fine-tuning with a BatchNorm after each conv that has none (calibrated to
   * the identity, batch statistics in training), folded back into the conv at the end of each fine-tuning.
   * distill: knowledge distillation from the uncompressed input model, loss = (1 − α)·CE + α·T²·KL.
   * swa: stochastic weight averaging after each stage's final fine-tuning (not ADMM's rounds): `epochs` more at
   * a constant `lr`, the weights then the mean of those epochs' ends (BatchNorm statistics recomputed).
   */
  train: {
    lr: number; batch: number; momentum: number; weightDecay: number; shift?: number; flip?: boolean;
    batchnorm?: 'refold' | 'off'; distill?: { alpha: number; temperature: number }; swa?: { epochs: number; lr: number };
  };
  /**
   * indexBits: relative-index bits per kind (the encoder picks the best when absent).
   * f16: store the float tensors left uncompressed (biases, skipped layers) as float16 —
   * lossy, so the accuracy reported is the decoded file's.
   */
  encode: { huffman: boolean; f16?: boolean; indexBits?: Partial<Record<LayerKind, number>> };
  layers: Record<string, LayerSettings>;
}

export const DEEP_COMPRESSION: Recipe = {
  name: 'deep-compression',
  prune: { density: { conv: 0.5, fc: 0.1 }, schedule: 'stages', stages: 4, epochsPerStage: 2 },
  share: { bits: { conv: 8, fc: 5 }, init: 'linear', epochs: 2 },
  train: { lr: 0.01, batch: 64, momentum: 0.9, weightDecay: 0 },
  encode: { huffman: true },
  layers: {},
};

/**
 * The share.lr that sharing dense layers takes: a tenth of train.lr. Each centroid moves by lr × the
 * summed gradient of its weights, and a dense layer's clusters are large (see share.lr; LeNet-5's
 * dense fc1 at 5 bits diverges at 0.01 and keeps its accuracy at 0.001).
 */
export const denseShareLr = (lr: number): number => lr / 10;

/** train.distill's defaults (Hinton et al.'s usual temperature; half the loss from the teacher). */
export const DISTILL_DEFAULTS = { alpha: 0.5, temperature: 4 };

export const ADMM_DEFAULTS: AdmmSettings = { rounds: 6, epochsPerRound: 1, rho: 1e-3, rhoGrowth: 1.6 };

/** PatDNN on a VGG: 8 patterns, connectivity 3.6× (8× fewer conv weights), ADMM then masked retraining. */
export const PATTERN: Recipe = {
  name: 'pattern',
  pattern: { patterns: 8, connectivity: 3.6, scope: 'model', minChannels: 4, admm: ADMM_DEFAULTS, epochs: 6 },
  train: { lr: 0.01, batch: 64, momentum: 0.9, weightDecay: 0 },
  encode: { huffman: true },
  layers: {},
};
/** The quantize section a recipe (or `compress --quantize`) starts from. */
export const QUANTIZE_DEFAULTS: NonNullable<Recipe['quantize']> = { scheme: 'int8', bits: 8, calibrate: 'minmax', samples: 1000, epochs: 0 };

/** No stage: every weight kept bit for bit, stored in the exact format it already has (sparse, codebook, grid). */
export const LOSSLESS: Recipe = {
  name: 'lossless',
  train: DEEP_COMPRESSION.train,
  encode: { huffman: true },
  layers: {},
};

export const FILTERS_DEFAULTS: NonNullable<Recipe['filters']> = { keep: {}, norm: 'l1', epochs: 4 };

export const BUILTIN_RECIPES: Record<string, Recipe> = { 'deep-compression': DEEP_COMPRESSION, lossless: LOSSLESS, pattern: PATTERN };

function checkRange(where: string, v: unknown, lo: number, hi: number, loOpen: boolean, integer: boolean): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && v <= hi && (!integer || Number.isInteger(v));
  if (!ok) fail(`${where} ${JSON.stringify(v)} must be ${integer ? 'an integer' : 'a number'} in ${loOpen ? '(' : '['}${lo}, ${hi}]`);
  return v as number;
}

const checkFraction = (where: string, v: unknown) => checkRange(where, v, 0, 1, true, false);
export const checkBits = (where: string, v: unknown) => checkRange(where, v, 1, 16, false, true);

/**
 * Merges a user's recipe (parsed YAML/JSON) over a base, checking every value. The default
 * base is the pattern recipe when the user's has a `pattern` section (pruning or sharing
 * after it would undo its patterns unless asked for), else Deep Compression.
 */
export function parseRecipe(raw: unknown, source: string, base?: Recipe): Recipe {
  if (typeof raw !== 'object' || raw === null) fail(`${source}: a recipe must be a mapping (YAML or JSON object)`);
  base ??= (raw as Partial<Recipe>).pattern ? PATTERN : DEEP_COMPRESSION;
  const r = raw as Partial<Recipe>;
  const out: Recipe = structuredClone(base);
  out.name = typeof r.name === 'string' ? r.name : source;
  if (r.finetune === null) delete out.finetune;
  else if (r.finetune) out.finetune = { ...out.finetune, ...r.finetune };
  if (r.filters === null) delete out.filters;
  else if (r.filters) out.filters = { ...(out.filters ?? FILTERS_DEFAULTS), ...r.filters, keep: { ...(out.filters ?? FILTERS_DEFAULTS).keep, ...r.filters.keep } };
  if (r.prune === null) delete out.prune;
  else if (r.prune) out.prune = { ...(out.prune ?? DEEP_COMPRESSION.prune!), ...r.prune, density: { ...(out.prune ?? DEEP_COMPRESSION.prune!).density, ...r.prune.density } };
  if (r.share === null) delete out.share;
  else if (r.share) out.share = { ...(out.share ?? DEEP_COMPRESSION.share!), ...r.share, bits: { ...(out.share ?? DEEP_COMPRESSION.share!).bits, ...r.share.bits } };
  if (r.pattern === null) delete out.pattern;
  else if (r.pattern) {
    const base = out.pattern ?? PATTERN.pattern!;
    const admm = r.pattern.admm === null ? undefined : r.pattern.admm ? { ...(base.admm ?? ADMM_DEFAULTS), ...r.pattern.admm } : base.admm;
    const codesign = r.pattern.codesign === null ? undefined : r.pattern.codesign ? { ...CODESIGN_CANDIDATES, ...base.codesign, ...r.pattern.codesign } : base.codesign;
    out.pattern = { ...base, ...r.pattern, admm, codesign };
  }
  if (r.quantize === null) delete out.quantize;
  else if (r.quantize) out.quantize = { ...(out.quantize ?? QUANTIZE_DEFAULTS), ...r.quantize };
  if (r.binarize === null) delete out.binarize;
  else if (r.binarize) out.binarize = { ...(out.binarize ?? BINARIZE_DEFAULTS), ...r.binarize, method: { ...(out.binarize ?? BINARIZE_DEFAULTS).method, ...r.binarize.method } };
  if (r.winograd === null) delete out.winograd;
  else if (r.winograd) out.winograd = { ...r.winograd };
  if (r.train) {
    const distill = (r.train.distill as unknown) === null ? undefined : r.train.distill ? { ...DISTILL_DEFAULTS, ...out.train.distill, ...r.train.distill } : out.train.distill;
    out.train = { ...out.train, ...r.train, distill };
    if (!distill) delete out.train.distill;
  }
  if (r.encode) out.encode = { ...out.encode, ...r.encode, indexBits: { ...out.encode.indexBits, ...r.encode.indexBits } };
  if (r.layers) out.layers = { ...out.layers, ...r.layers };
  if (!out.filters && Object.values(out.layers).some((l) => l?.filters !== undefined)) out.filters = structuredClone(FILTERS_DEFAULTS);
  for (const m of kindMaps(out)) for (const k of Object.keys(m)) if (m[k] === null) delete m[k]; // `fc: null`: no default for that kind
  checkRecipe(out, source);
  return out;
}

/** A per-kind key must be conv or fc. */
function kind(k: string, source: string): string {
  if (k !== 'conv' && k !== 'fc') fail(`${source}: "${k}": the layer kinds are conv and fc; name single layers under layers`);
  return k;
}

export function checkRecipe(r: Recipe, source: string): void {
  if (r.finetune) checkRange(`${source}: finetune.epochs`, r.finetune.epochs, 1, 1000, false, true);
  if (r.filters) {
    for (const [k, v] of Object.entries(r.filters.keep)) checkFraction(`${source}: filters.keep.${kind(k, source)}`, v);
    if (!['l1', 'l2'].includes(r.filters.norm)) fail(`${source}: filters.norm "${r.filters.norm}" must be l1 or l2`);
    checkRange(`${source}: filters.epochs`, r.filters.epochs, 0, 1000, false, false);
  }
  if (r.prune) {
    for (const [k, v] of Object.entries(r.prune.density)) checkFraction(`${source}: prune.density.${kind(k, source)}`, v);
    if (!['oneshot', 'stages', 'agp'].includes(r.prune.schedule)) fail(`${source}: prune.schedule "${r.prune.schedule}" must be oneshot, stages or agp`);
    checkRange(`${source}: prune.stages`, r.prune.stages, 1, 100, false, true);
    checkRange(`${source}: prune.epochsPerStage`, r.prune.epochsPerStage, 0, 1000, false, false);
  }
  if (r.share) {
    for (const [k, v] of Object.entries(r.share.bits)) checkBits(`${source}: share.bits.${kind(k, source)}`, v);
    if (!['linear', 'density', 'random'].includes(r.share.init)) fail(`${source}: share.init "${r.share.init}" must be linear, density or random`);
    checkRange(`${source}: share.epochs`, r.share.epochs, 0, 1000, false, false);
    if (r.share.lr !== undefined) checkRange(`${source}: share.lr`, r.share.lr, 0, 10, true, false);
    if (r.share.maxStep !== undefined) checkRange(`${source}: share.maxStep`, r.share.maxStep, 0, 1e6, true, false);
  }
  if (r.pattern) checkPatternSettings(r.pattern, source);
  if (r.quantize) checkQuantize(r.quantize, source);
  if (r.binarize) {
    checkBinarize(r.binarize, source);
    if (r.share) fail(`${source}: binarize and share both set the weights' values; drop one of them`);
    if (r.quantize) fail(`${source}: binarize and quantize both set the weights' values; drop one of them`);
  }
  if (r.winograd && !isWinogradTile(r.winograd.tile)) fail(`${source}: winograd.tile ${JSON.stringify(r.winograd.tile)} must be one of ${WINOGRAD_TILES.join(', ')}`);
  checkRange(`${source}: train.lr`, r.train.lr, 0, 10, true, false);
  checkRange(`${source}: train.batch`, r.train.batch, 1, 65536, false, true);
  if (r.train.shift !== undefined) checkRange(`${source}: train.shift`, r.train.shift, 0, 8, false, true);
  if (r.train.flip !== undefined && typeof r.train.flip !== 'boolean') fail(`${source}: train.flip ${JSON.stringify(r.train.flip)} must be true or false`);
  if (r.train.batchnorm !== undefined && r.train.batchnorm !== 'refold' && r.train.batchnorm !== 'off') fail(`${source}: train.batchnorm ${JSON.stringify(r.train.batchnorm)} must be refold or off`);
  if (r.train.distill !== undefined) {
    const d = r.train.distill;
    if (typeof d !== 'object' || d === null) fail(`${source}: train.distill must be a mapping { alpha, temperature }`);
    for (const k of Object.keys(d)) if (k !== 'alpha' && k !== 'temperature') fail(`${source}: train.distill.${k} is not a distillation setting; use alpha, temperature`);
    checkDistill(d.alpha, d.temperature, `${source}: train.distill`);
  }
  if (r.train.swa !== undefined) {
    const w = r.train.swa;
    if (typeof w !== 'object' || w === null) fail(`${source}: train.swa must be a mapping { epochs, lr }`);
    for (const k of Object.keys(w)) if (k !== 'epochs' && k !== 'lr') fail(`${source}: train.swa.${k} is not a weight-averaging setting; use epochs, lr`);
    checkRange(`${source}: train.swa.epochs`, w.epochs, 1, 1000, false, true);
    checkRange(`${source}: train.swa.lr`, w.lr, 0, 10, true, false);
  }
  const trainKeys = ['lr', 'batch', 'momentum', 'weightDecay', 'shift', 'flip', 'batchnorm', 'distill', 'swa'];
  for (const k of Object.keys(r.train)) if (!trainKeys.includes(k)) fail(`${source}: train.${k} is not a training setting; use ${trainKeys.join(', ')}`);
  if (r.encode.f16 !== undefined && typeof r.encode.f16 !== 'boolean') fail(`${source}: encode.f16 ${JSON.stringify(r.encode.f16)} must be true or false`);
  for (const [k, v] of Object.entries(r.encode.indexBits ?? {})) checkBits(`${source}: encode.indexBits.${k}`, v);
  for (const [name, s] of Object.entries(r.layers)) {
    if (s.density !== undefined) checkFraction(`${source}: layers.${name}.density`, s.density);
    if (s.bits !== undefined) checkBits(`${source}: layers.${name}.bits`, s.bits);
    if (s.indexBits !== undefined) checkBits(`${source}: layers.${name}.indexBits`, s.indexBits);
    if (s.patterns !== undefined) checkRange(`${source}: layers.${name}.patterns`, s.patterns, 1, 56, false, true);
    if (s.connectivity !== undefined) checkRange(`${source}: layers.${name}.connectivity`, s.connectivity, 1, 1e6, false, false);
    if (s.filters !== undefined) checkFraction(`${source}: layers.${name}.filters`, s.filters);
    if (s.binary !== undefined) checkMethod(`${source}: layers.${name}.binary`, s.binary, true);
    if (s.quantize !== undefined && s.quantize !== 'float') checkRange(`${source}: layers.${name}.quantize (bits, or float)`, s.quantize, 2, 16, false, true);
  }
}

function checkPatternSettings(p: PatternSettings, source: string): void {
  checkRange(`${source}: pattern.patterns`, p.patterns, 1, 56, false, true);
  checkRange(`${source}: pattern.connectivity`, p.connectivity, 1, 1e6, false, false);
  if (p.scope !== 'model' && p.scope !== 'layer') fail(`${source}: pattern.scope "${p.scope}" must be model or layer`);
  checkRange(`${source}: pattern.minChannels`, p.minChannels, 1, 1e6, false, true);
  checkRange(`${source}: pattern.epochs`, p.epochs, 0, 1000, false, false);
  if (p.admm) {
    checkRange(`${source}: pattern.admm.rounds`, p.admm.rounds, 0, 1000, false, true);
    checkRange(`${source}: pattern.admm.epochsPerRound`, p.admm.epochsPerRound, 0, 1000, false, false);
    checkRange(`${source}: pattern.admm.rho`, p.admm.rho, 0, 1e6, true, false);
    checkRange(`${source}: pattern.admm.rhoGrowth`, p.admm.rhoGrowth, 1, 100, false, false);
  }
  if (p.codesign) checkCodesign(p.codesign, `${source}: pattern.codesign`);
}

export function checkCodesign(c: CodesignSettings, where: string): void {
  if ((c.latencyUs === undefined) === (c.sizeBytes === undefined)) fail(`${where}: give one target, latencyUs or sizeBytes`);
  if (c.latencyUs !== undefined) checkRange(`${where}.latencyUs`, c.latencyUs, 0, 1e9, true, false);
  if (c.sizeBytes !== undefined) checkRange(`${where}.sizeBytes`, c.sizeBytes, 0, 1e12, true, false);
  if (c.accuracyBound !== undefined) checkRange(`${where}.accuracyBound`, c.accuracyBound, 0, 1, true, false);
  if (!Array.isArray(c.patterns) || !c.patterns.length) fail(`${where}.patterns must list pattern counts, e.g. [4, 6, 8, 12]`);
  if (!Array.isArray(c.connectivity) || !c.connectivity.length) fail(`${where}.connectivity must list rates, e.g. [1, 2, 3.6]`);
  for (const k of c.patterns) checkRange(`${where}.patterns: ${k}`, k, 1, 56, false, true);
  for (const r of c.connectivity) checkRange(`${where}.connectivity: ${r}`, r, 1, 1e6, false, false);
}

function checkQuantize(q: NonNullable<Recipe['quantize']>, source: string): void {
  if (q.scheme !== 'int8' && q.scheme !== 'fixed') fail(`${source}: quantize.scheme "${q.scheme}" must be int8 or fixed`);
  checkRange(`${source}: quantize.bits`, q.bits, 2, q.scheme === 'int8' ? 8 : 16, false, true);
  if (q.actBits !== undefined) checkRange(`${source}: quantize.actBits`, q.actBits, 2, 32, false, true);
  if (!CALIBRATION_METHODS.includes(q.calibrate)) fail(`${source}: quantize.calibrate "${q.calibrate}" must be one of ${CALIBRATION_METHODS.join(', ')}`);
  checkRange(`${source}: quantize.samples`, q.samples, 1, 1e6, false, true);
  checkRange(`${source}: quantize.epochs`, q.epochs, 0, 1000, false, false);
}

/** Every layer named in the recipe must exist in the model. */
export function checkRecipeLayers(r: Recipe, layers: Layer[], source: string): void {
  for (const name of Object.keys(r.layers)) findLayer(layers, name, source);
}

/** The settings that apply to one layer: its kind's defaults, then its overrides. */
export function settingsFor(r: Recipe, layer: Layer): Required<Omit<LayerSettings, 'indexBits' | 'filters' | 'binary' | 'patterns' | 'connectivity' | 'quantize'>> & Pick<LayerSettings, 'indexBits' | 'filters' | 'binary'> {
  const o = layerOverrides(r, layer);
  return {
    density: o.density ?? r.prune?.density[layer.kind] ?? 1,
    bits: o.bits ?? r.share?.bits[layer.kind] ?? 32,
    indexBits: o.indexBits ?? r.encode.indexBits?.[layer.kind],
    filters: o.filters ?? r.filters?.keep[layer.kind],
    binary: o.binary,
    skip: o.skip ?? false,
  };
}

/** The recipe's own entry for a layer (by friendly, weight or node name); {} when none. */
export function layerOverrides(r: Recipe, layer: Layer): LayerSettings {
  return Object.entries(r.layers).find(([k]) => k === layer.name || k === layer.weight || k === layer.node.name)?.[1] ?? {};
}

/** The per-kind default maps of a recipe's stages (filters kept, density, bits). */
function kindMaps(r: Recipe): Record<string, unknown>[] {
  return [r.filters?.keep, r.prune?.density, r.share?.bits].filter((m) => m !== undefined) as Record<string, unknown>[];
}

/**
 * A recipe as the mapping parseRecipe reads back to the same recipe: absent stages and
 * absent per-kind defaults written null, so no default of the base recipe fills them.
 */
export function recipeDocument(r: Recipe): Record<string, unknown> {
  const copy = structuredClone(r);
  for (const m of kindMaps(copy)) for (const k of ['conv', 'fc']) if (!(k in m)) m[k] = null;
  const doc: Record<string, unknown> = { ...copy };
  for (const k of ['finetune', 'filters', 'pattern', 'prune', 'share', 'quantize', 'binarize', 'winograd'] as const) if (r[k] === undefined) doc[k] = null;
  if (copy.pattern) doc.pattern = { ...copy.pattern, admm: copy.pattern.admm ?? null, codesign: copy.pattern.codesign ?? null };
  return doc;
}
