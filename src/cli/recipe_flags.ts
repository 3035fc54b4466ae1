// Recipes from the command line: --recipe NAME|FILE, then flags override the common knobs.
// Without fine-tuning the base is the lossless recipe: only the flags given change weights.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ADMM_DEFAULTS, BUILTIN_RECIPES, CODESIGN_CANDIDATES, checkRecipe, DEEP_COMPRESSION, DISTILL_DEFAULTS, FILTERS_DEFAULTS, parseRecipe, QUANTIZE_DEFAULTS, type Recipe } from '../compress/recipe.js';
import type { KMeansInit } from '../compress/share/kmeans.js';
import { fail } from '../ir/errors.js';
import type { WinogradTile } from '../ir/winograd.js';
import { choice, num, str, type Options, type Parsed } from './args.js';

export const RECIPE_FLAGS: Options = {
  recipe: { type: 'string' },
  density: { type: 'string' },
  bits: { type: 'string' },
  filters: { type: 'string' },
  'filter-epochs': { type: 'string' },
  'index-bits': { type: 'string' },
  schedule: { type: 'string' },
  stages: { type: 'string' },
  epochs: { type: 'string' },
  'share-epochs': { type: 'string' },
  lr: { type: 'string' },
  batch: { type: 'string' },
  batchnorm: { type: 'string' },
  distill: { type: 'string' },
  'distill-temperature': { type: 'string' },
  swa: { type: 'string' },
  'swa-lr': { type: 'string' },
  init: { type: 'string' },
  'no-prune': { type: 'boolean' },
  'no-share': { type: 'boolean' },
  'no-huffman': { type: 'boolean' },
  f16: { type: 'boolean' },
  patterns: { type: 'string' },
  connectivity: { type: 'string' },
  'admm-rounds': { type: 'string' },
  'pattern-epochs': { type: 'string' },
  'latency-target': { type: 'string' },
  'size-target': { type: 'string' },
  'accuracy-bound': { type: 'string' },
  quantize: { type: 'string' },
  'quant-bits': { type: 'string' },
  'winograd-filters': { type: 'string' },
};

export const RECIPE_HELP = `  --recipe NAME|FILE      built-in recipe (${Object.keys(BUILTIN_RECIPES).join(', ')}) or a YAML/JSON file
                          (default: deep-compression when fine-tuning, else lossless)
  --filters SPEC          fraction of filters/neurons kept, the rest removed from the graph:
                          0.5 (every layer that can be thinned), conv=0.5, or per layer conv2=0.5
  --filter-epochs N       fine-tuning epochs after removing filters
  --density SPEC          fraction of weights kept: 0.1 (all), conv=0.5,fc=0.1, or per layer fc1=0.08
  --bits SPEC             weight-sharing bits (1–16): 5, conv=8,fc=5, or per layer fc1=6
  --index-bits SPEC       relative-index bits of sparse storage (default: best per layer)
  --schedule S            pruning schedule: oneshot, stages or agp
  --stages N              pruning stages (iterative pruning)
  --epochs N              fine-tuning epochs per pruning stage
  --share-epochs N        centroid fine-tuning epochs after weight sharing
  --lr X                  fine-tuning learning rate (SGD, momentum 0.9, cosine decay)
  --batch N               fine-tuning batch size
  --batchnorm refold|off  refold: every fine-tuning trains with a BatchNorm after each conv that has
                          none (calibrated to the identity), folded back into the conv at its end
  --distill ALPHA         knowledge distillation from the uncompressed model: loss =
                          (1 − ALPHA)·CE + ALPHA·T²·KL(teacher ‖ student) at temperature T
  --distill-temperature T the distillation temperature (> 0; default 4)
  --swa N                 stochastic weight averaging: after each stage's final fine-tuning, N more
                          epochs at a constant rate, the weights then the mean of their ends
  --swa-lr X              the averaged epochs' learning rate (default: half the fine-tuning's)
  --init I                k-means initialisation: linear, density or random
  --no-prune, --no-share  leave out a stage
  --no-huffman            no Huffman coding (Han's P+Q stage)
  --f16                   store the uncompressed float tensors (biases) as float16 (lossy;
                          the accuracy printed is the written file's)
pattern pruning (--recipe pattern; PatDNN):
  --patterns K            patterns per model (1–56), or per layer: conv2=6
  --connectivity R        kernels kept = kernels / R (1 = all), or per layer: conv2=2
  --admm-rounds N         ADMM rounds before the projection (0 = one-shot projection)
  --pattern-epochs N      masked retraining epochs after the projection
  --latency-target US     co-design: K and R per layer so the pattern layers take at most US µs
                          per image as the compiler measures them (one thread)
  --size-target BYTES     co-design: ... so their stored weights take at most BYTES
  --accuracy-bound PCT    co-design: the lowest test accuracy (%) accepted; checked after retraining
  --quantize S            quantize after pruning and sharing: int8 or fixed (dynamic fixed point),
                          calibrated on 1000 training images (recipe: quantize.*, QAT epochs there)
  --quant-bits N          weight bits of --quantize (int8: 2–8, fixed: 2–16; default 8)
  --winograd-filters M    store the dense 3×3 stride-1 conv filters as their Winograd F(M,3)
                          transforms (M = 2, 4, 6): a session skips the transform; the file grows`;

function loadRecipe(spec: string): Recipe {
  const builtin = BUILTIN_RECIPES[spec];
  if (builtin) return structuredClone(builtin);
  if (!existsSync(spec)) fail(`--recipe ${spec}: no such built-in recipe (${Object.keys(BUILTIN_RECIPES).join(', ')}) or file`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(spec, 'utf8'));
  } catch (e) {
    fail(`${spec}: not valid YAML/JSON (${(e as Error).message.split('\n')[0]})`);
  }
  return parseRecipe(raw, spec);
}

/** Applies "0.1", "conv=0.5,fc=0.1" or "fc1=0.08" to kind defaults and per-layer overrides. */
function applySpec(r: Recipe, flag: string, spec: string, setKind: (kind: 'conv' | 'fc', v: number) => void,
  key: 'density' | 'bits' | 'indexBits' | 'filters' | 'patterns' | 'connectivity'): void {
  for (const part of spec.split(',')) {
    const [k, v] = part.includes('=') ? part.split('=', 2) : [undefined, part];
    const value = Number(v);
    if (v === '' || !Number.isFinite(value)) fail(`--${flag} ${spec}: "${part}" is not a number or name=number`);
    if (k === undefined) {
      setKind('conv', value);
      setKind('fc', value);
    } else if (k === 'conv' || k === 'fc') setKind(k, value);
    else r.layers[k] = { ...r.layers[k], [key]: value };
  }
}

const PATTERN_FLAGS = ['patterns', 'connectivity', 'admm-rounds', 'pattern-epochs', 'latency-target', 'size-target', 'accuracy-bound'];

/** The pattern stage's flags (checked with the rest of the recipe by checkRecipe). */
function patternFlags(r: Recipe, p: Parsed): void {
  const given = PATTERN_FLAGS.filter((f) => p.values[f] !== undefined);
  if (!given.length) return;
  const ps = r.pattern ?? fail(`--${given[0]} needs the pattern stage: add --recipe pattern (or a recipe with a pattern: section)`);
  const patterns = str(p, 'patterns'), connectivity = str(p, 'connectivity');
  if (patterns) applySpec(r, 'patterns', patterns, (_k, v) => (ps.patterns = v), 'patterns');
  if (connectivity) applySpec(r, 'connectivity', connectivity, (_k, v) => (ps.connectivity = v), 'connectivity');
  const rounds = str(p, 'admm-rounds');
  if (rounds !== undefined) {
    const n = num(p, 'admm-rounds', 0, 0, 1000, true);
    if (n === 0) delete ps.admm;
    else ps.admm = { ...(ps.admm ?? ADMM_DEFAULTS), rounds: n };
  }
  ps.epochs = num(p, 'pattern-epochs', ps.epochs, 0, 1000);
  const latency = str(p, 'latency-target'), size = str(p, 'size-target'), bound = str(p, 'accuracy-bound');
  if (latency !== undefined || size !== undefined || bound !== undefined) {
    if (latency === undefined && size === undefined) fail('--accuracy-bound needs a target: --latency-target US or --size-target BYTES');
    ps.codesign = {
      ...CODESIGN_CANDIDATES, ...ps.codesign,
      latencyUs: latency === undefined ? undefined : num(p, 'latency-target', 0, 1e-3, 1e9),
      sizeBytes: size === undefined ? undefined : num(p, 'size-target', 0, 1, 1e12),
      accuracyBound: bound === undefined ? undefined : num(p, 'accuracy-bound', 0, 0.01, 100) / 100,
    };
  }
}

/** The flags that change weights (the others say how). */
const CHANGES_WEIGHTS = ['recipe', 'filters', 'density', 'bits'] as const;

/** The first flag given that changes weights, e.g. "--density", or undefined. */
export function weightFlag(p: Parsed): string | undefined {
  const k = CHANGES_WEIGHTS.find((k) => str(p, k) !== undefined && !(k === 'recipe' && str(p, k) === 'lossless'));
  return k && `--${k}`;
}

/** The recipe: --recipe, else deep-compression when fine-tuning and lossless otherwise; then the flags. */
export function recipeFromFlags(p: Parsed, finetune = true): Recipe {
  const r = loadRecipe(str(p, 'recipe') ?? (finetune ? 'deep-compression' : 'lossless'));
  if (p.values['no-prune']) delete r.prune;
  if (p.values['no-share']) delete r.share;
  const filters = str(p, 'filters');
  if (filters) {
    r.filters ??= structuredClone(FILTERS_DEFAULTS);
    applySpec(r, 'filters', filters, (k, v) => (r.filters!.keep[k] = v), 'filters');
  }
  if (r.filters) r.filters.epochs = num(p, 'filter-epochs', r.filters.epochs, 0, 1000);
  const density = str(p, 'density');
  if (density) {
    if (p.values['no-prune']) fail('--density given with --no-prune; drop one of them');
    r.prune ??= { ...structuredClone(DEEP_COMPRESSION.prune!), density: {} };
    applySpec(r, 'density', density, (k, v) => (r.prune!.density[k] = v), 'density');
  }
  const bits = str(p, 'bits');
  if (bits) {
    if (p.values['no-share']) fail('--bits given with --no-share; drop one of them');
    r.share ??= { ...structuredClone(DEEP_COMPRESSION.share!), bits: {} };
    applySpec(r, 'bits', bits, (k, v) => (r.share!.bits[k] = v), 'bits');
  }
  const indexBits = str(p, 'index-bits');
  if (indexBits) applySpec(r, 'index-bits', indexBits, (k, v) => (r.encode.indexBits = { ...r.encode.indexBits, [k]: v }), 'indexBits');
  const schedule = choice(p, 'schedule', ['oneshot', 'stages', 'agp'] as const);
  if (r.prune) {
    if (schedule) r.prune.schedule = schedule;
    r.prune.stages = num(p, 'stages', r.prune.stages, 1, 100, true);
    r.prune.epochsPerStage = num(p, 'epochs', r.prune.epochsPerStage, 0, 1000);
  }
  if (r.share) {
    r.share.epochs = num(p, 'share-epochs', r.share.epochs, 0, 1000);
    const init = str(p, 'init');
    if (init) r.share.init = init as KMeansInit; // checked by checkRecipe below
  }
  refuseIdleStageFlags(p, r);
  if (str(p, 'lr') !== undefined) r.train.lr = Number(str(p, 'lr'));
  r.train.batch = num(p, 'batch', r.train.batch, 1, 65536, true);
  const bn = choice(p, 'batchnorm', ['refold', 'off'] as const);
  if (bn) r.train.batchnorm = bn;
  if (str(p, 'distill') !== undefined) r.train.distill = { ...DISTILL_DEFAULTS, ...r.train.distill, alpha: num(p, 'distill', 0, 0, 1) };
  if (str(p, 'distill-temperature') !== undefined) {
    if (!r.train.distill) fail('--distill-temperature goes with --distill ALPHA (or a recipe with train.distill)');
    r.train.distill.temperature = num(p, 'distill-temperature', 4, 0, Infinity); // 0 refused by checkRecipe: "must be > 0"
  }
  if (str(p, 'swa') !== undefined) r.train.swa = { epochs: num(p, 'swa', 0, 1, 1000, true), lr: r.train.swa?.lr ?? r.train.lr / 2 };
  if (str(p, 'swa-lr') !== undefined) {
    if (!r.train.swa) fail('--swa-lr goes with --swa N (or a recipe with train.swa)');
    r.train.swa.lr = num(p, 'swa-lr', 0, 0, 10); // 0 refused by checkRecipe: the range is open at 0
  }
  checkRecipe(r, 'options');
  const tuning = ['batchnorm', 'distill', 'distill-temperature', 'swa', 'swa-lr'].find((f) => str(p, f) !== undefined);
  if (tuning && !finetune) fail(`--${tuning} sets fine-tuning, which this run does not do (--no-finetune or no --dataset); drop it`);
  patternFlags(r, p);
  const scheme = choice(p, 'quantize', ['int8', 'fixed'] as const);
  if (scheme) r.quantize = { ...(r.quantize ?? QUANTIZE_DEFAULTS), scheme };
  if (str(p, 'quant-bits') !== undefined) {
    if (!r.quantize) fail('--quant-bits goes with --quantize int8|fixed (or a recipe with a quantize section)');
    r.quantize.bits = num(p, 'quant-bits', 8, 2, 16, true);
  }
  if (p.values['no-huffman']) r.encode.huffman = false;
  if (p.values.f16) r.encode.f16 = true;
  const tile = str(p, 'winograd-filters');
  if (tile !== undefined) r.winograd = { tile: Number(tile) as WinogradTile }; // checked by checkRecipe below
  checkRecipe(r, 'options');
  return r;
}

/** A stage's flag when that stage does not run: its value checked first, then refused (never ignored silently). */
function refuseIdleStageFlags(p: Parsed, r: Recipe): void {
  const idle = [
    ...(r.prune ? [] : [['epochs', 'pruning'], ['stages', 'pruning'], ['schedule', 'pruning']]),
    ...(r.share ? [] : [['share-epochs', 'weight sharing'], ['init', 'weight sharing']]),
  ];
  for (const [flag, stage] of idle) {
    if (str(p, flag) === undefined) continue;
    if (flag === 'stages') num(p, flag, 1, 1, 100, true);
    else if (flag.endsWith('epochs')) num(p, flag, 0, 0, 1000);
    fail(`--${flag} sets ${stage}, which this run does not do; drop it, or add the stage (--density/--bits, or --dataset for the default recipe)`);
  }
}
