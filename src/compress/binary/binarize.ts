// The binarize stage on a trainable model: which layer gets which method, the
// XNOR graph rewrite (binary activations), the weight transforms and fine-tuning
// through the trainer's hooks. The intake then stores each binarized weight in its
// smallest exact form (binary, ternary when it holds zeros, or a small codebook).
import { attrInt } from '../../ir/graph.js';
import { channelLevels } from '../../ir/binary.js';
import { fail } from '../../ir/errors.js';
import { modelFromGraph } from '../../train/from_graph.js';
import type { Model } from '../../train/model.js';
import { modelToGraph } from '../../train/to_graph.js';
import { accuracyOf, finetune, type FinetuneConfig, type FinetuneData } from '../finetune.js';
import type { Layer } from '../layers.js';
import type { BinarizeSettings, BinaryMethod } from './settings.js';
import { binarize, ternarize, trainedTernary, ttqInitialScales } from './transforms.js';
import { binaryActivations } from './xnor_graph.js';

/**
 * The method of each layer: the per-layer choice (`own`, e.g. from the recipe's
 * layers) or else the kind's default, with the first and last layer float
 * unless `first` / `last` say otherwise (an explicit per-layer choice wins).
 */
export function chooseMethods(layers: readonly Layer[], s: BinarizeSettings, own: (l: Layer) => BinaryMethod | 'none' | undefined): Map<Layer, BinaryMethod> {
  const out = new Map<Layer, BinaryMethod>();
  layers.forEach((l, i) => {
    const edge = (i === 0 && !s.first) || (i === layers.length - 1 && !s.last);
    const m = own(l) ?? (edge ? 'none' : s.method[l.kind]);
    if (m !== 'none') out.set(l, m);
  });
  return out;
}

/** The axis of a layer's output channels in its weight: 0 (Conv, Gemm transB=1) or 1 ([K, N] weights). */
export function outputAxis(l: Layer): number {
  return l.node.op === 'Conv' || (l.node.op === 'Gemm' && attrInt(l.node, 'transB', 0) !== 0) ? 0 : 1;
}

/** Refuses what has no binary form, naming the layer. */
function checkLayer(l: Layer, m: BinaryMethod, where: string): void {
  const what = `${where}: layer "${l.name}" (${l.node.op})`;
  if (l.node.op === 'ConvTranspose') fail(`${what} cannot be binarized: nnzip has binary kernels for Conv, Gemm and MatMul only; leave it float (binary: none)`);
  if (m === 'xnor' && l.node.op === 'Conv' && attrInt(l.node, 'group', 1) !== 1) {
    fail(`${what}: group=${attrInt(l.node, 'group', 1)}: binary activations need an ungrouped conv; use bwn or twn for it`);
  }
  if (m === 'xnor' && l.node.op === 'Gemm' && attrInt(l.node, 'transA', 0) !== 0) fail(`${what}: transA=1 is not supported with binary activations; use bwn`);
}

export interface BinarizeOptions {
  settings: BinarizeSettings;
  data?: FinetuneData;
  train: FinetuneConfig;
  seed: number;
  where?: string;
}

export interface BinarizeResult {
  /** The model trained (a new one when binary activations changed the graph). */
  model: Model;
  /** Test accuracy right after binarizing, before fine-tuning (with data). */
  binarized?: number;
  accuracy?: number;
}

export function binarizeModel(model: Model, methods: ReadonlyMap<Layer, BinaryMethod>, o: BinarizeOptions): BinarizeResult {
  const where = o.where ?? 'binarize';
  for (const [l, m] of methods) checkLayer(l, m, where);
  const xnor = [...methods].filter(([, m]) => m === 'xnor').map(([l]) => l);
  if (xnor.length) model = withBinaryActivations(model, xnor, o);
  const s = o.settings;
  for (const [l, m] of methods) {
    const axis = outputAxis(l);
    if (m === 'bwn' || m === 'xnor') model.setWeightTransform(l.weight, binarize(axis));
    else if (m === 'twn') model.setWeightTransform(l.weight, ternarize(s.delta, axis));
    else {
      const scales = model.addParam(`${l.weight}:ttq_scales`, ttqInitialScales(model.param(l.weight).master, s.threshold));
      model.setWeightTransform(l.weight, trainedTernary(scales, s.threshold));
    }
  }
  const binarized = o.data ? accuracyOf(model, o.data) : undefined;
  let accuracy = binarized;
  if (o.data && s.epochs > 0) {
    finetune(model, o.data, s.epochs, o.train, 'binarize');
    accuracy = accuracyOf(model, o.data);
  }
  // how each weight is stored is the intake's business (compress/intake.ts); here only a check of the transforms
  model.refreshWeights();
  for (const [l] of methods) {
    const p = model.param(l.weight), levels = channelLevels(p.data, p.shape, outputAxis(l), 'ternary');
    if (typeof levels === 'string') throw new Error(`binarize: layer "${l.name}" is not binary or ternary after its transform (${levels})`);
  }
  return { model, binarized, accuracy };
}

/** A new model on the graph with Sign before the XNOR layers (masks carried over, K filters frozen). */
function withBinaryActivations(model: Model, layers: Layer[], o: BinarizeOptions): Model {
  const { graph, frozen } = binaryActivations(modelToGraph(model), layers, { scaling: o.settings.scaling, batchNorm: o.settings.batchNorm });
  const next = modelFromGraph(graph, { seed: o.seed, backend: model.backend });
  for (const [name, p] of model.params) if (p.mask && next.params.has(name)) next.setMask(name, p.mask);
  for (const name of frozen) next.param(name).trainable = false;
  return next;
}
