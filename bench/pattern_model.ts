// The pattern-pruned VGG-S the pattern benchmarks run: the repro's trained file
// (fixtures/models/vggs_fmnist_pattern.nnz, `npm run repro -- pattern`) when it
// exists, else the dense fixture projected one-shot onto 8 patterns and
// connectivity 3.6 (no retraining: the speed depends on the structure, not on
// the accuracy). Also the one-conv graphs of its pattern layers.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compressGraph } from '../src/compress/pipeline.js';
import { PATTERN } from '../src/compress/recipe.js';
import { nnzToGraph } from '../src/format/nnz.js';
import { Graph, type Node } from '../src/ir/graph.js';
import { Rng } from '../src/ir/random.js';
import { f32 } from '../src/ir/tensor.js';
import { inferShapes } from '../src/ir/infer.js';
import { patternCounts } from '../src/ir/pattern.js';
import { loadOnnxFile } from '../src/onnx/load.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));
export const DENSE_VGGS = `${FIXTURES}vggs_fmnist_dense.onnx`;
export const PATTERN_VGGS = `${FIXTURES}vggs_fmnist_pattern.nnz`;

export interface PatternModel {
  graph: Graph;
  /** Where it came from, for the tables' notes. */
  source: string;
  /** The graph before the projection, when it is made here. */
  dense?: Graph;
}

/** Conv weights before and after: dense count over the stored pattern weights (the first conv counts as dense). */
export function convWeights(before: Graph, after: Graph): { dense: number; kept: number } {
  let dense = 0, kept = 0;
  for (const n of before.nodes.filter((n) => n.op === 'Conv')) {
    const t = before.initializers.get(n.inputs[1])!;
    dense += t.size;
    const f = after.formats.get(n.inputs[1]);
    kept += f?.kind === 'pattern' ? patternCounts(f).weights : t.size;
  }
  return { dense, kept };
}

export function patternVggs(file?: string): PatternModel {
  const path = file ?? (existsSync(PATTERN_VGGS) ? PATTERN_VGGS : undefined);
  if (path) return { graph: nnzToGraph(readFileSync(path), path).graph, source: path.replace(FIXTURES, 'fixtures/models/') };
  const graph = compressGraph(loadOnnxFile(DENSE_VGGS), { recipe: PATTERN }).compressed;
  return { graph, source: 'the dense VGG-S projected one-shot (8 patterns, connectivity 3.6; no retraining)' };
}

/**
 * Stride-2 3×3 convs (pads 1) of ResNet's downsampling shapes, as a chain: 32→64 channels at
 * 56×56 in, 64→128 at 28×28, 128→256 at 14×14, 256→512 at 7×7; He-normal weights (seeded)
 * projected one-shot onto 8 patterns and connectivity 3.6, as patternVggs does without a file.
 */
export function stridedModel(): PatternModel {
  const r = new Rng(2), inits = new Map(), nodes: Node[] = [];
  const shapes = [[32, 64], [64, 128], [128, 256], [256, 512]];
  shapes.forEach(([C, M], i) => {
    const w = `s2conv${i}.weight`;
    inits.set(w, f32([M, C, 3, 3], Float32Array.from({ length: M * C * 9 }, () => r.normal() * Math.sqrt(2 / (9 * C)))));
    nodes.push({ name: `s2conv${i}`, op: 'Conv', inputs: [i === 0 ? 'x' : `r${i - 1}`, w], outputs: [`c${i}`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } });
    nodes.push({ name: `relu${i}`, op: 'Relu', inputs: [`c${i}`], outputs: [i === shapes.length - 1 ? 'y' : `r${i}`], attrs: {} });
  });
  const dense = new Graph({ name: 'stride-2 convs', initializers: inits, nodes, inputs: [{ name: 'x', dtype: 'float32', shape: [1, 32, 56, 56] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 512, 4, 4] }] });
  return { graph: compressGraph(dense, { recipe: PATTERN }).compressed, dense, source: 'stride-2 3×3 convs of ResNet\'s downsampling shapes, random weights projected one-shot (8 patterns, connectivity 3.6)' };
}

/**
 * torchvision's ResNet-18 at 224×224 (BatchNorm folded: each conv with a bias), He-normal
 * weights and small biases (seeded), and the same graph with its 3×3 convs projected one-shot
 * onto 8 patterns and connectivity 3.6 (the 7×7 stem, the 1×1 downsampling convs and the fc
 * stay dense). A speed model: the weights are random.
 */
export function resnet18Model(): PatternModel & { dense: Graph } {
  const r = new Rng(18), inits = new Map(), nodes: Node[] = [];
  const conv = (name: string, x: string, C: number, M: number, k: number, stride: number, relu: boolean): string => {
    inits.set(`${name}.weight`, f32([M, C, k, k], Float32Array.from({ length: M * C * k * k }, () => r.normal() * Math.sqrt(2 / (k * k * C)))));
    inits.set(`${name}.bias`, f32([M], Float32Array.from({ length: M }, () => 0.01 * r.normal())));
    const p = (k - 1) / 2;
    nodes.push({ name, op: 'Conv', inputs: [x, `${name}.weight`, `${name}.bias`], outputs: [`${name}.out`], attrs: { kernel_shape: [k, k], pads: [p, p, p, p], strides: [stride, stride] } });
    if (!relu) return `${name}.out`;
    nodes.push({ name: `${name}.relu`, op: 'Relu', inputs: [`${name}.out`], outputs: [`${name}.act`], attrs: {} });
    return `${name}.act`;
  };
  let x = conv('conv1', 'x', 3, 64, 7, 2, true);
  nodes.push({ name: 'maxpool', op: 'MaxPool', inputs: [x], outputs: ['maxpool.out'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } });
  x = 'maxpool.out';
  let C = 64;
  [64, 128, 256, 512].forEach((M, l) => {
    for (let b = 0; b < 2; b++) {
      const name = `layer${l + 1}.${b}`, stride = l > 0 && b === 0 ? 2 : 1;
      const h = conv(`${name}.conv2`, conv(`${name}.conv1`, x, C, M, 3, stride, true), M, M, 3, 1, false);
      const skip = stride === 2 ? conv(`${name}.downsample`, x, C, M, 1, 2, false) : x;
      nodes.push({ name: `${name}.add`, op: 'Add', inputs: [h, skip], outputs: [`${name}.sum`], attrs: {} });
      nodes.push({ name: `${name}.relu`, op: 'Relu', inputs: [`${name}.sum`], outputs: [`${name}.out`], attrs: {} });
      x = `${name}.out`;
      C = M;
    }
  });
  nodes.push({ name: 'avgpool', op: 'GlobalAveragePool', inputs: [x], outputs: ['pooled'], attrs: {} });
  nodes.push({ name: 'flatten', op: 'Flatten', inputs: ['pooled'], outputs: ['flat'], attrs: { axis: 1 } });
  inits.set('fc.weight', f32([1000, 512], Float32Array.from({ length: 512000 }, () => r.normal() * Math.sqrt(1 / 512))));
  inits.set('fc.bias', f32([1000], new Float32Array(1000)));
  nodes.push({ name: 'fc', op: 'Gemm', inputs: ['flat', 'fc.weight', 'fc.bias'], outputs: ['y'], attrs: { transB: 1 } });
  const dense = new Graph({
    name: 'resnet18', initializers: inits, nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 224, 224] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1000] }],
  });
  return { graph: compressGraph(dense, { recipe: PATTERN }).compressed, dense, source: 'ResNet-18 (224×224, random weights), its 3×3 convs projected one-shot (8 patterns, connectivity 3.6)' };
}

export interface PatternLayer {
  name: string;
  node: Node;
  /** Input [C, H, W] of one image. */
  input: number[];
  /** The conv and a ReLU alone, with the layer's weights and formats, input "x" of `batch` images. */
  graph(batch: number): Graph;
}

/** The convs of a graph whose weights are stored as patterns. */
export function patternLayers(g: Graph): PatternLayer[] {
  const types = inferShapes(g);
  return g.nodes.filter((n) => n.op === 'Conv' && g.formats.get(n.inputs[1])?.kind === 'pattern').map((node) => {
    const input = types.get(node.inputs[0])!.shape.slice(1) as number[];
    const output = types.get(node.outputs[0])!.shape.slice(1) as number[];
    const [, wName, bName] = node.inputs;
    const name = wName.replace(/\.weight$/, '');
    return {
      name, node, input,
      graph: (batch: number) => {
        const inits = new Map([[wName, g.initializers.get(wName)!]]);
        if (bName) inits.set(bName, g.initializers.get(bName)!);
        const out = new Graph({
          name, opset: g.opset, initializers: inits,
          inputs: [{ name: 'x', dtype: 'float32', shape: [batch, ...input] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [batch, ...output] }],
          nodes: [{ ...node, inputs: ['x', wName, ...(bName ? [bName] : [])], outputs: ['c'] }, { name: 'relu', op: 'Relu', inputs: ['c'], outputs: ['y'], attrs: {} }],
        });
        out.formats.set(wName, g.formats.get(wName)!);
        return out;
      },
    };
  });
}
