// Sensitivity analysis (Han et al. 2015, Fig. 6; Li et al. 2017, Fig. 2): prune one
// layer at a time to each density, evaluate, and record the accuracy — which layers
// tolerate pruning and which do not. Output as the object (JSON), CSV or an SVG chart.
import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import { compressibleLayers, findLayer } from '../layers.js';
import { applyMask, magnitudeMask } from './magnitude.js';
import { findFilterLayer, type Norm } from './structured.js';
import { couplingGroups, pruneChannels } from './thin.js';

export type SensitivityMode = 'unstructured' | 'filters';

export interface SensitivityOptions {
  /** Layers to analyse (friendly, weight or node names); default: every prunable layer. */
  layers?: string[];
  /** Fractions kept, each in (0, 1]: of weights (unstructured) or of filters (filters). */
  densities: number[];
  /** Accuracy (or any higher-is-better score) of a graph. */
  evaluate: (g: Graph) => Promise<number>;
  mode: SensitivityMode;
  /** Filter ranking norm in 'filters' mode (default l1). */
  norm?: Norm;
  onProgress?: (done: number, total: number, layer: string, density: number, accuracy: number) => void;
}

export interface LayerSensitivity {
  layer: string;
  op: string;
  /** Weights of the layer (with its coupled layers in 'filters' mode). */
  weights: number;
  /** Layers pruned together with this one ('filters' mode: residual coupling). */
  coupled: string[];
  /** One accuracy per density, in the order of `densities`. */
  accuracy: number[];
}

export interface SensitivityResult {
  mode: SensitivityMode;
  densities: number[];
  /** Accuracy of the unpruned graph (also the accuracy at density 1). */
  baseline: number;
  layers: LayerSensitivity[];
}

interface Unit {
  info: Omit<LayerSensitivity, 'accuracy'>;
  prune(graph: Graph, density: number): Graph;
}

function maskedLayer(weight: string) {
  return (graph: Graph, density: number): Graph => {
    const g = graph.clone();
    const w = g.initializers.get(weight) as Tensor<'float32'>;
    g.initializers.set(weight, new Tensor('float32', w.shape, applyMask(w.data, magnitudeMask(w.data, density))));
    return g;
  };
}

function unstructuredUnits(graph: Graph, names: string[] | undefined): Unit[] {
  const all = compressibleLayers(graph);
  const layers = names ? names.map((n) => findLayer(all, n, 'sensitivity')) : all;
  return layers.map((l) => ({
    info: { layer: l.name, op: l.node.op, weights: (graph.initializers.get(l.weight) as Tensor).size, coupled: [] },
    prune: maskedLayer(l.weight),
  }));
}

function filterUnits(graph: Graph, names: string[] | undefined, norm: Norm): Unit[] {
  const groups = couplingGroups(graph);
  const wanted = names
    ? names.map((n) => {
        const l = findFilterLayer(graph, n, 'sensitivity');
        const g = groups.find((x) => x.layers.includes(l.name));
        if (g?.blocked) fail(`sensitivity: layer "${n}" cannot be thinned: ${g.blocked}`);
        return { name: l.name, group: g };
      })
    : groups.filter((g) => !g.blocked).map((g) => ({ name: g.layers[0], group: g }));
  const units: Unit[] = [];
  const seen = new Set<unknown>();
  for (const { name, group } of wanted) {
    if (!group || seen.has(group)) continue;
    seen.add(group);
    const members = group.layers.map((n) => findFilterLayer(graph, n, 'sensitivity'));
    const weights = members.reduce((s, m) => s + (graph.initializers.get(m.weight) as Tensor).size, 0);
    units.push({
      info: { layer: name, op: members[0].node.op, weights, coupled: group.layers.filter((n) => n !== name) },
      prune: (g, density) => pruneChannels(g, { ratios: { [name]: density }, norm }),
    });
  }
  return units;
}

function checkDensities(densities: number[]): void {
  if (!Array.isArray(densities) || densities.length === 0) fail('sensitivity: option densities is empty; give fractions in (0, 1], e.g. [1, 0.5, 0.25, 0.1]');
  for (const d of densities) {
    if (typeof d !== 'number' || !(d > 0 && d <= 1)) fail(`sensitivity: density ${d} is outside (0, 1]; give the fraction kept, e.g. 0.25`);
  }
}

async function score(evaluate: SensitivityOptions['evaluate'], g: Graph, what: string): Promise<number> {
  const v = await evaluate(g);
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`sensitivity: evaluate returned ${v} for ${what}; it must return a finite number`);
  return v;
}

/** Prunes each layer alone to each density and evaluates the graph (the input graph is not changed). */
export async function sensitivity(graph: Graph, options: SensitivityOptions): Promise<SensitivityResult> {
  checkDensities(options.densities);
  if (options.mode !== 'unstructured' && options.mode !== 'filters') fail(`sensitivity: mode "${options.mode}" is unknown; use "unstructured" or "filters"`);
  if (typeof options.evaluate !== 'function') fail('sensitivity: option evaluate must be a function (graph) => Promise<number>');
  const units = options.mode === 'filters' ? filterUnits(graph, options.layers, options.norm ?? 'l1') : unstructuredUnits(graph, options.layers);
  if (units.length === 0) fail(`sensitivity: the graph "${graph.name}" has no layer that ${options.mode} pruning can act on`);
  const baseline = await score(options.evaluate, graph, 'the unpruned graph');
  const total = units.length * options.densities.length;
  let done = 0;
  const layers: LayerSensitivity[] = [];
  for (const u of units) {
    const accuracy: number[] = [];
    for (const d of options.densities) {
      // Density 1 prunes nothing: its accuracy is the baseline.
      const a = d === 1 ? baseline : await score(options.evaluate, u.prune(graph, d), `layer "${u.info.layer}" at density ${d}`);
      accuracy.push(a);
      options.onProgress?.(++done, total, u.info.layer, d, a);
    }
    layers.push({ ...u.info, accuracy });
  }
  return { mode: options.mode, densities: [...options.densities], baseline, layers };
}
