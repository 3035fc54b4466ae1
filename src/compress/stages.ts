// The compression stages a recipe can run, in the order they run: one entry per
// method. A stage changes the trainable model (and fine-tunes it when there is
// data); the pipeline then finds how each weight is stored (intake.ts).
// A new method adds its entry here, its section to the recipe, and its folder.
import { exactCodebook } from '../format/codebook.js';
import { modelFromGraph } from '../train/from_graph.js';
import type { TrainData } from '../train/loop.js';
import type { Model } from '../train/model.js';
import { modelToGraph } from '../train/to_graph.js';
import { accuracyOf, finetune, type FinetuneConfig, type FinetuneData } from './finetune.js';
import type { LayerIntake } from './intake.js';
import { compressibleLayers, type Layer } from './layers.js';
import { codesign, codesignNote } from './pattern/codesign.js';
import { patternTargets, prunePatterns } from './pattern/pattern_prune.js';
import { pruneIteratively, type PruneStage } from './prune/iterative.js';
import { filterLayers } from './prune/structured.js';
import { couplingGroups, pruneChannels } from './prune/thin.js';
import { denseShareLr, layerOverrides, settingsFor, type Recipe } from './recipe.js';
import { shareWeights, type ShareTarget } from './share/share.js';
import { quantizeStageRun } from './quantize/stage.js';
import { binarizeModel, chooseMethods } from './binary/binarize.js';
import { winogradFormats } from './winograd/store.js';

export interface StageContext {
  /** The model the stages change (a stage that changes the graph's structure replaces it). */
  model: Model;
  layers: Layer[];
  recipe: Recipe;
  data?: FinetuneData;
  /** Calibration images of the quantize stage (the fine-tuning data's training set, or given without fine-tuning). */
  calibration?: TrainData;
  seed: number;
  train: FinetuneConfig;
  /** What each layer's weight is before this stage, by weight name. */
  current: Map<string, LayerIntake>;
  pruneStages: PruneStage[];
  /** Lines a stage wants the user to read (choices it made, bounds it missed). */
  notes: string[];
}

export interface Stage {
  name: string;
  letter: string;
  label: string;
  enabled(r: Recipe): boolean;
  /** Runs the stage; returns measured points (`accuracy` = after the stage, when it measured it). */
  run(ctx: StageContext): Record<string, number>;
}

type Settings = ReturnType<typeof settingsFor>;

/** The layers a stage acts on, with their settings (skipped layers left out). */
function targets(ctx: StageContext, keep: (s: Settings) => boolean): { layer: Layer; s: Settings }[] {
  return ctx.layers.map((layer) => ({ layer, s: settingsFor(ctx.recipe, layer) })).filter(({ s }) => !s.skip && keep(s));
}

/** Fraction of filters kept per layer: named layers as given, kind defaults on the layers that can be thinned. */
function filterRatios(ctx: StageContext): Record<string, number> {
  const graph = ctx.model.graph;
  const thinnable = new Set(filterLayers(graph).map((l) => l.name));
  for (const g of couplingGroups(graph)) if (g.blocked) for (const n of g.layers) thinnable.delete(n);
  const ratios: Record<string, number> = {};
  for (const { layer, s } of targets(ctx, (s) => s.filters !== undefined && s.filters < 1)) {
    if (layerOverrides(ctx.recipe, layer).filters !== undefined || thinnable.has(layer.name)) ratios[layer.name] = s.filters!;
  }
  return ratios;
}

/** Keeps the zeros a weight already has (pruned here or elsewhere) through fine-tuning. */
function maskZeros(model: Model, on: boolean): void {
  for (const p of model.params.values()) {
    if (p.shape.length < 2) continue;
    model.setMask(p.name, on && p.master.includes(0) ? Uint8Array.from(p.master, (v) => (v === 0 ? 0 : 1)) : null);
  }
}

const finetuneStage: Stage = {
  name: 'finetune',
  letter: 'T',
  label: 'fine-tuned (dense)',
  enabled: (r) => r.finetune !== undefined,
  run(ctx): Record<string, number> {
    if (!ctx.data) return {};
    finetune(ctx.model, ctx.data, ctx.recipe.finetune!.epochs, { ...ctx.train, distill: undefined }, 'finetune');
    if (ctx.train.teacher) { // the later stages distil from the fine-tuned model
      ctx.train.teacher.dispose();
      ctx.train = { ...ctx.train, teacher: modelFromGraph(modelToGraph(ctx.model), { seed: ctx.seed }) };
    }
    return { accuracy: accuracyOf(ctx.model, ctx.data) };
  },
};

const filters: Stage = {
  name: 'filters',
  letter: 'F',
  label: 'filters removed',
  enabled: (r) => r.filters !== undefined,
  run(ctx): Record<string, number> {
    const f = ctx.recipe.filters!;
    const ratios = filterRatios(ctx);
    if (Object.keys(ratios).length === 0) return {};
    const thinned = pruneChannels(modelToGraph(ctx.model), { ratios, norm: f.norm });
    ctx.model.dispose();
    ctx.model = modelFromGraph(thinned, { seed: ctx.seed });
    ctx.layers = compressibleLayers(ctx.model.graph);
    if (!ctx.data || f.epochs === 0) return {};
    maskZeros(ctx.model, true);
    finetune(ctx.model, ctx.data, f.epochs, ctx.train, 'filters');
    maskZeros(ctx.model, false);
    return { accuracy: accuracyOf(ctx.model, ctx.data) };
  },
};

const pattern: Stage = {
  name: 'pattern',
  letter: 'K',
  label: 'pattern + connectivity pruning (FKW)',
  enabled: (r) => r.pattern !== undefined,
  run(ctx) {
    const p = ctx.recipe.pattern!;
    const targets = patternTargets(ctx.model, ctx.layers, ctx.recipe, 'recipe');
    const cd = p.codesign ? codesign(ctx.model, targets, p.codesign, p.scope, ctx.data) : undefined;
    cd?.choices.forEach((c, i) => Object.assign(targets[i], { K: c.option.K, rate: c.option.rate }));
    const r = prunePatterns(ctx.model, targets, p, { data: ctx.data, train: ctx.train, where: 'recipe' });
    const out: Record<string, number> = {};
    if (cd) ctx.notes.push(codesignNote(cd, p.codesign!));
    const bound = p.codesign?.accuracyBound, final = r.accuracy ?? r.projected;
    if (bound !== undefined && final !== undefined) {
      ctx.notes.push(`co-design: accuracy ${(100 * final).toFixed(2)}% ${final >= bound ? 'meets' : 'is BELOW'} the bound ${(100 * bound).toFixed(2)}%`);
    }
    if (r.projected !== undefined) out.projected = r.projected;
    if (r.accuracy !== undefined) out.accuracy = r.accuracy;
    return out;
  },
};

/** Layers a later stage prunes: not those stored as patterns (pruning them further would break the patterns). */
const notPatterned = (ctx: StageContext, l: Layer) => ctx.current.get(l.weight)?.format?.kind !== 'pattern';

const prune: Stage = {
  name: 'prune',
  letter: 'P',
  label: 'pruned, relative index',
  enabled: (r) => r.prune !== undefined,
  run(ctx): Record<string, number> {
    const p = ctx.recipe.prune!;
    const list = targets(ctx, () => true).filter(({ layer }) => notPatterned(ctx, layer)).map(({ layer, s }) => ({ weight: layer.weight, density: s.density }));
    ctx.pruneStages = pruneIteratively(ctx.model, list, {
      schedule: p.schedule, stages: p.stages, epochsPerStage: ctx.data ? p.epochsPerStage : 0, data: ctx.data, train: ctx.train,
    });
    const last = ctx.pruneStages.at(-1)?.accuracy;
    return last === undefined ? {} : { accuracy: last };
  },
};

/**
 * What weight sharing does to a layer: a layer already within the bits keeps its
 * values (its distinct values are the codebook; a grid stays a grid), others are clustered.
 */
function shareTarget(ctx: StageContext, layer: Layer, bits: number): ShareTarget | undefined {
  const now = ctx.current.get(layer.weight);
  if (now?.format?.kind === 'grid' && now.bits <= bits) return undefined;
  if (now?.distinct !== undefined && now.distinct <= 2 ** bits) {
    return { weight: layer.weight, bits, codebook: exactCodebook(ctx.model.param(layer.weight).master) };
  }
  return { weight: layer.weight, bits };
}

/** Accuracy the centroid fine-tune may lose against the clustered model before compress says so (1 pp). */
const SHARE_LOSS_NOTE = 0.01;

/** The centroid fine-tune made the model worse: the largest cluster, and what to change. */
function shareLossNote(r: ReturnType<typeof shareWeights>, lr: number, lost: number): string {
  const { weights: most, where } = r.largest;
  return `share: fine-tuning the centroids lost ${(100 * lost).toFixed(2)} pp (clustered ${(100 * r.accuracyClustered!).toFixed(2)}%, tuned ${(100 * r.accuracyTuned!).toFixed(2)}%): ` +
    `each centroid moves by lr × the summed gradient of its weights (lr ${lr}; the largest cluster: ${most} weights of ${where}); give share.lr a smaller one (e.g. ${denseShareLr(lr)})`;
}

const share: Stage = {
  name: 'share',
  letter: 'Q',
  label: 'weight sharing',
  enabled: (r) => r.share !== undefined,
  run(ctx): Record<string, number> {
    const sh = ctx.recipe.share!;
    const list = targets(ctx, (s) => s.bits < 32).flatMap(({ layer, s }) => shareTarget(ctx, layer, s.bits) ?? []);
    const train = sh.lr === undefined ? ctx.train : { ...ctx.train, lr: sh.lr };
    const r = shareWeights(ctx.model, list, { init: sh.init, epochs: ctx.data ? sh.epochs : 0, seed: ctx.seed, data: ctx.data, train, maxStep: sh.maxStep });
    const lost = (r.accuracyClustered ?? NaN) - (r.accuracyTuned ?? NaN);
    if (r.lr !== undefined && r.lr < train.lr) ctx.notes.push(`share: centroid fine-tune at lr ${r.lr.toPrecision(3)} (share.maxStep ${sh.maxStep} / the largest cluster's weights), not ${train.lr}`);
    if (lost > SHARE_LOSS_NOTE) ctx.notes.push(shareLossNote(r, r.lr ?? train.lr, lost));
    return r.accuracyClustered === undefined ? {} : { clustered: r.accuracyClustered };
  },
};

const quantize: Stage = {
  name: 'quantize',
  letter: 'I',
  label: 'quantized (int8 / fixed point)',
  enabled: (r) => r.quantize !== undefined,
  run(ctx) {
    const own = (l: Layer) => layerOverrides(ctx.recipe, l).quantize;
    const skipped = ctx.layers.filter((l) => settingsFor(ctx.recipe, l).skip || own(l) === 'float').map((l) => l.name);
    const layerBits = Object.fromEntries(ctx.layers.flatMap((l) => (typeof own(l) === 'number' ? [[l.name, own(l) as number]] : [])));
    const r = quantizeStageRun({ ...ctx, skipped, layerBits, quantize: ctx.recipe.quantize! });
    if (r.model !== ctx.model) ctx.model.dispose();
    ctx.model = r.model;
    return r.details;
  },
};

const binarize: Stage = {
  name: 'binarize',
  letter: 'B',
  label: 'binary / ternary weights',
  enabled: (r) => r.binarize !== undefined,
  run(ctx) {
    const methods = chooseMethods(ctx.layers, ctx.recipe.binarize!, (l) => settingsFor(ctx.recipe, l).binary);
    for (const l of ctx.layers) if (settingsFor(ctx.recipe, l).skip) methods.delete(l);
    const r = binarizeModel(ctx.model, methods, { settings: ctx.recipe.binarize!, data: ctx.data, train: ctx.train, seed: ctx.seed, where: 'recipe' });
    if (r.model !== ctx.model) ctx.model.dispose();
    ctx.model = r.model;
    return r.binarized === undefined ? {} : { binarized: r.binarized, accuracy: r.accuracy! } as Record<string, number>;
  },
};

/**
 * A storage choice, not a change of values: the layers left dense float get their
 * filters stored as Winograd transforms, by what the stage records in `current`
 * (the pipeline reads it back, since the weights are the same bits).
 */
const winograd: Stage = {
  name: 'winograd',
  letter: 'W',
  label: 'Winograd-transformed filters',
  enabled: (r) => r.winograd !== undefined,
  run(ctx) {
    // a weight with an exact format (codebook, grid, zeros stored sparse) keeps it
    const keep = (l: Layer) => ctx.current.get(l.weight)?.format === undefined && !settingsFor(ctx.recipe, l).skip &&
      !ctx.model.param(l.weight).data.includes(0);
    for (const [w, format] of winogradFormats(ctx.model, ctx.layers, ctx.recipe.winograd!.tile, keep)) {
      ctx.current.set(w, { ...ctx.current.get(w)!, format });
    }
    return {};
  },
};

/** Every stage, in the order a recipe runs them. */
export const STAGES: readonly Stage[] = [finetuneStage, filters, pattern, prune, share, binarize, quantize, winograd];
