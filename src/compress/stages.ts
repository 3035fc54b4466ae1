// The compression stages a recipe can run, in the order they run: one entry per
// method. A stage changes the trainable model (and fine-tunes it when there is
// data) and records how each weight is stored from now on in `formats`.
// A new method adds its entry here, its section to the recipe, and its folder.
import type { TensorFormat } from '../ir/tensor_format.js';
import type { Model } from '../train/model.js';
import type { FinetuneConfig, FinetuneData } from './finetune.js';
import type { Layer } from './layers.js';
import { codesign, codesignNote } from './pattern/codesign.js';
import { patternTargets, prunePatterns } from './pattern/pattern_prune.js';
import { pruneIteratively, type PruneStage } from './prune/iterative.js';
import { settingsFor, type Recipe } from './recipe.js';
import { shareWeights } from './share/share.js';

export interface StageContext {
  model: Model;
  layers: Layer[];
  recipe: Recipe;
  data?: FinetuneData;
  seed: number;
  train: FinetuneConfig;
  /** How the stages so far store each weight they changed (others keep the input's format, or dense float). */
  formats: Map<string, TensorFormat>;
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

/** The layers a stage acts on, with their settings (skipped layers left out). */
function targets(ctx: StageContext, keep: (s: ReturnType<typeof settingsFor>) => boolean): { layer: Layer; s: ReturnType<typeof settingsFor> }[] {
  return ctx.layers.map((layer) => ({ layer, s: settingsFor(ctx.recipe, layer) })).filter(({ s }) => !s.skip && keep(s));
}

/** Bits per relative index from the recipe, on every sparse or shared weight. */
function applyIndexBits(ctx: StageContext): void {
  for (const l of ctx.layers) {
    const f = ctx.formats.get(l.weight);
    const bits = settingsFor(ctx.recipe, l).indexBits;
    if (f && f.kind !== 'pattern' && bits) f.indexBits = bits;
  }
}

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
    for (const [w, f] of r.formats) ctx.formats.set(w, f);
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

/** Layers a later stage prunes: not those the pattern stage stores as patterns (pruning them further would break the patterns). */
const notPatterned = (ctx: StageContext, l: Layer) => ctx.formats.get(l.weight)?.kind !== 'pattern';

const prune: Stage = {
  name: 'prune',
  letter: 'P',
  label: 'pruned, relative index',
  enabled: (r) => r.prune !== undefined,
  run(ctx) {
    const p = ctx.recipe.prune!;
    const list = targets(ctx, () => true).filter(({ layer }) => notPatterned(ctx, layer)).map(({ layer, s }) => ({ weight: layer.weight, density: s.density }));
    ctx.pruneStages = pruneIteratively(ctx.model, list, {
      schedule: p.schedule, stages: p.stages, epochsPerStage: ctx.data ? p.epochsPerStage : 0, data: ctx.data, train: ctx.train,
    });
    for (const l of ctx.layers) if (notPatterned(ctx, l) && ctx.model.param(l.weight).master.some((v) => v === 0)) ctx.formats.set(l.weight, { kind: 'sparse' });
    applyIndexBits(ctx);
    const last = ctx.pruneStages.at(-1)?.accuracy;
    return last === undefined ? {} : { accuracy: last } as Record<string, number>;
  },
};

const share: Stage = {
  name: 'share',
  letter: 'Q',
  label: 'weight sharing',
  enabled: (r) => r.share !== undefined,
  run(ctx) {
    const sh = ctx.recipe.share!;
    const list = targets(ctx, (s) => s.bits < 32).map(({ layer, s }) => ({ weight: layer.weight, bits: s.bits }));
    const r = shareWeights(ctx.model, list, { init: sh.init, epochs: ctx.data ? sh.epochs : 0, seed: ctx.seed, data: ctx.data, train: ctx.train });
    for (const [w, f] of r.formats) ctx.formats.set(w, f);
    applyIndexBits(ctx);
    return r.accuracyClustered === undefined ? {} : { clustered: r.accuracyClustered } as Record<string, number>;
  },
};

/** Every stage, in the order a recipe runs them. */
export const STAGES: readonly Stage[] = [pattern, prune, share];
