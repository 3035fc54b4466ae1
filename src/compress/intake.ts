// Intake: what a model's weights already are, layer by layer, before nnzip changes
// anything — zeros (pruned elsewhere), a few distinct values (weight sharing,
// palettization, clustering), integers on a grid (int8 QDQ, fixed point). Each layer
// gets the exact storage format that is smallest in the .nnz file, so a model
// compressed by another tool is kept bit for bit at the size it deserves.
import { levelBits } from '../format/bits.js';
import { codebookLimit, exactCodebook } from '../format/codebook.js';
import { exactGrid, gridOffsets, gridRange } from '../format/grid.js';
import { encodeTensorPayload } from '../format/tensor_codec.js';
import type { TensorEncoding } from '../format/tensor_encodings.js';
import { channelLevels } from '../ir/binary.js';
import { detectPatterns } from '../ir/pattern.js';
import type { TensorFormat } from '../ir/tensor_format.js';
import type { Graph } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { compressibleLayers, type Layer } from './layers.js';

export interface LayerIntake {
  layer: string;
  weight: string;
  shape: number[];
  params: number;
  /** Fraction of weights that are not +0. */
  density: number;
  /** Distinct nonzero values; undefined when over 65535. */
  distinct?: number;
  /** The exact format it is stored in (undefined = dense float). */
  format?: TensorFormat;
  /** Bits per stored value: 32 for float, the codebook index or grid integer width otherwise. */
  bits: number;
}

/**
 * The exact format of a float32 weight that encodes smallest (undefined: dense float
 * is), and its number of distinct nonzero values (undefined when over 65535).
 */
export function exactFormat(name: string, tensor: Tensor): { format?: TensorFormat; distinct?: number } {
  if (tensor.dtype !== 'float32') return {};
  const data = tensor.data as Float32Array;
  const all = exactCodebook(data);
  const distinct = all?.centroids.length;
  const codebook = distinct !== undefined && distinct <= codebookLimit(data.length) ? all : undefined;
  const grid = exactGrid(data, tensor.shape);
  const signs = typeof channelLevels(data, tensor.shape, 0, 'ternary') !== 'string';
  if (!codebook && !grid && !signs && !data.includes(0)) return { distinct }; // plain float: nothing to find
  const pattern = data.includes(0) ? detectPatterns(data, tensor.shape) : undefined;
  // fixed-width streams: the choice rarely differs from Huffman's and costs no code construction (the file's encoder still picks the smallest)
  const { encoding, stored } = encodeTensorPayload({ name, tensor, codebook, grid, pattern, huffman: false });
  const kind = stored ?? KIND[encoding];
  // zeros that follow 3×3 patterns (PatDNN, pruned here or elsewhere) stay patterns, which the pattern kernel runs, unless values on
  // a codebook or grid, or binary / ternary levels (a TWN layer's zeros may follow patterns), store smaller
  if (pattern && kind !== 'codebook' && kind !== 'grid' && kind !== 'binary' && kind !== 'ternary') return { distinct, format: pattern };
  switch (kind) {
    case 'codebook':
      return { distinct, format: { kind: 'codebook', bits: levelBits(codebook!.centroids.length), centroids: codebook!.centroids, indices: codebook!.indices } };
    case 'grid':
      return { distinct, format: { kind: 'grid', bits: levelBits(gridRange(gridOffsets(grid!, tensor.shape)).levels), ...grid! } };
    case 'sparse':
      return { distinct, format: { kind: 'sparse' } };
    case 'binary':
    case 'ternary':
      return { distinct, format: { kind: KIND[encoding] as 'binary' | 'ternary', axis: 0 } };
    default:
      return { distinct };
  }
}

/** The storage format each encoding stands for (the others are dense float). */
const KIND: Partial<Record<TensorEncoding, TensorFormat['kind']>> = {
  codebook: 'codebook', 'sparse-codebook': 'codebook', 'codebook-ctx': 'codebook',
  grid: 'grid', 'sparse-grid': 'grid', 'grid-ctx': 'grid',
  'sparse-f32': 'sparse',
  pattern: 'pattern',
  binary: 'binary', ternary: 'ternary',
};

function layerIntake(graph: Graph, l: Layer): LayerIntake {
  const t = graph.initializers.get(l.weight)!;
  const data = t.data as Float32Array;
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let nz = 0;
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) nz++;
  const { format, distinct } = exactFormat(l.weight, t);
  return {
    layer: l.name,
    weight: l.weight,
    shape: [...t.shape],
    params: t.size,
    density: t.size ? nz / t.size : 1,
    distinct,
    format,
    bits: format?.kind === 'codebook' || format?.kind === 'grid' ? format.bits : format?.kind === 'binary' ? 1 : format?.kind === 'ternary' ? 1.6 : 32,
  };
}

/** What each compressible layer's weight already is; `before` (an earlier graph and its intake) is reused for weights left bit for bit as they were. */
export function intake(graph: Graph, layers: Layer[] = compressibleLayers(graph), before?: { graph: Graph; found: LayerIntake[] }): LayerIntake[] {
  return layers.map((l) => {
    const old = before?.found.find((f) => f.weight === l.weight);
    const same = old && sameTensor(before!.graph.initializers.get(l.weight), graph.initializers.get(l.weight)!);
    return same ? old : layerIntake(graph, l);
  });
}

function sameTensor(a: Tensor | undefined, b: Tensor): boolean {
  if (!a || a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A copy of the graph whose layers carry their exact formats (other formats kept). */
export function withFormats(graph: Graph, layers: LayerIntake[]): Graph {
  const g = graph.clone();
  for (const l of layers) {
    if (l.format) g.formats.set(l.weight, l.format);
    else g.formats.delete(l.weight);
  }
  return g;
}
