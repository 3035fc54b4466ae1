// Pattern + connectivity pruning of a trainable model (PatDNN): which layers,
// the pattern set (per model or per layer, by frequency), ADMM when the recipe
// asks for it, the hard projection, masked retraining; returns each layer's
// PatternFormat. One-shot projection + retraining is the same run without ADMM.
import { attrInt } from '../../ir/graph.js';
import { fail } from '../../ir/errors.js';
import { isPatternShape } from '../../ir/pattern.js';
import type { PatternFormat } from '../../ir/tensor_format.js';
import type { Model } from '../../train/model.js';
import { accuracyOf, finetune, type FinetuneConfig, type FinetuneData } from '../finetune.js';
import type { Layer } from '../layers.js';
import { layerOverrides, type PatternSettings, type Recipe } from '../recipe.js';
import { admmPatterns, type AdmmRound } from './admm.js';
import { checkConnectivity, checkPatternCount, projectLayer, rankPatterns } from './project.js';

export interface PatternTarget {
  layer: Layer;
  M: number;
  C: number;
  /** Patterns K and connectivity rate of this layer. */
  K: number;
  rate: number;
}

/** Whether a layer can take patterns: a Conv with group 1 and a [M, C, 3, 3] weight. */
export function qualifies(layer: Layer, shape: readonly number[]): boolean {
  return layer.node.op === 'Conv' && attrInt(layer.node, 'group', 1) === 1 && isPatternShape(shape);
}

/**
 * The layers the pattern stage prunes: every qualifying layer with at least
 * minChannels input channels, unless skipped; a layer the recipe gives patterns
 * or a connectivity rate must qualify (the error lists those that do).
 */
export function patternTargets(model: Model, layers: readonly Layer[], r: Recipe, where: string): PatternTarget[] {
  const p = r.pattern!;
  checkPatternCount(p.patterns, `${where}: pattern.patterns`);
  checkConnectivity(p.connectivity, `${where}: pattern.connectivity`);
  const shapeOf = (l: Layer) => model.param(l.weight).shape;
  const out: PatternTarget[] = [];
  for (const layer of layers) {
    const e = layerOverrides(r, layer);
    const named = e?.patterns !== undefined || e?.connectivity !== undefined;
    const shape = shapeOf(layer);
    if (named && !qualifies(layer, shape)) {
      const ok = layers.filter((l) => qualifies(l, shapeOf(l))).map((l) => l.name);
      fail(`${where}: layer ${layer.name} (${layer.node.op} [${shape.join(',')}]) cannot take patterns: they apply to 3×3 convs with group 1; layers that qualify: ${ok.join(', ') || 'none'}`);
    }
    if (e?.skip || !qualifies(layer, shape) || (!named && shape[1] < p.minChannels)) continue;
    const K = e?.patterns ?? p.patterns, rate = e?.connectivity ?? p.connectivity;
    checkPatternCount(K, `${where}: layer ${layer.name}`);
    checkConnectivity(rate, `${where}: layer ${layer.name}`);
    out.push({ layer, M: shape[0], C: shape[1], K, rate });
  }
  if (!out.length) {
    const ok = layers.filter((l) => qualifies(l, shapeOf(l))).map((l) => `${l.name} (${shapeOf(l)[1]} input channels)`);
    fail(`${where}: the pattern stage has no layer to prune: patterns apply to 3×3 convs with group 1 and, unless the recipe names the layer, at least pattern.minChannels = ${p.minChannels} input channels; ` +
      (ok.length ? `skipped or below it: ${ok.join(', ')}` : 'this model has no 3×3 conv; use another recipe'));
  }
  return out;
}

/** The pattern set of each target: the first K of one model-wide ranking, or of the layer's own. */
export function patternSets(model: Model, targets: readonly PatternTarget[], scope: PatternSettings['scope']): number[][] {
  const layer = (t: PatternTarget) => ({ w: model.param(t.layer.weight).master, rate: t.rate });
  const shared = scope === 'model' ? rankPatterns(targets.map(layer)) : undefined;
  return targets.map((t) => (shared ?? rankPatterns([layer(t)])).slice(0, t.K));
}

export interface PatternRun {
  formats: Map<string, PatternFormat>;
  admm: AdmmRound[];
  /** Test accuracy right after the hard projection (before retraining). */
  projected?: number;
  accuracy?: number;
}

/** Prunes the targets in place (masks set: retraining and later stages keep the zeros). */
export function prunePatterns(model: Model, targets: readonly PatternTarget[], s: PatternSettings,
  opts: { data?: FinetuneData; train: FinetuneConfig; where: string }): PatternRun {
  const sets = patternSets(model, targets, s.scope);
  const project = (t: PatternTarget, i: number) =>
    projectLayer({ name: t.layer.name, w: model.param(t.layer.weight).master, M: t.M, C: t.C }, sets[i], t.rate);
  targets.forEach((t, i) => project(t, i)); // bad rates fail here, before any training
  const run: PatternRun = { formats: new Map(), admm: [] };
  if (s.admm && opts.data && s.admm.rounds > 0) {
    const admmTargets = targets.map((t, i) => ({ weight: t.layer.weight, M: t.M, C: t.C, masks: sets[i], rate: t.rate }));
    run.admm = admmPatterns(model, admmTargets, s.admm, opts.data, opts.train);
  }
  targets.forEach((t, i) => {
    const proj = project(t, i);
    model.setMask(t.layer.weight, proj.mask);
    run.formats.set(t.layer.weight, proj.format);
  });
  if (opts.data) {
    run.projected = accuracyOf(model, opts.data);
    if (s.epochs > 0) {
      finetune(model, opts.data, s.epochs, opts.train, 'pattern retrain');
      run.accuracy = accuracyOf(model, opts.data);
    }
  }
  return run;
}
