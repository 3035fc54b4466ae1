// Quantized weights in ONNX's QDQ form, as onnxruntime's quantizer writes them: a
// weight on an 8-bit grid (graph.formats) becomes its integers (int8, or uint8
// with zero points) and a DequantizeLinear with per-axis scales and zero points;
// a layer's bias that lies on the int32 grid of input scale × weight scale becomes
// int32 and a DequantizeLinear, so that onnxruntime fuses the unit into QLinearConv
// / QGemm. The importer folds them back (and keeps the grids). Values are unchanged.
import type { Graph, Node } from '../ir/graph.js';
import { dequantizeValue } from '../ir/quant.js';
import { fromNumbers, Tensor, f32 } from '../ir/tensor.js';
import type { GridFormat } from '../ir/tensor_format.js';

const LAYERS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** The integer type an 8-bit grid's integers fit, or undefined (wider grids stay float: ONNX ≤ 18 dequantizes 8-bit only). */
function intType(g: GridFormat): 'int8' | 'uint8' | undefined {
  let lo = Infinity, hi = -Infinity;
  for (const q of g.q) { if (q < lo) lo = q; if (q > hi) hi = q; }
  if (lo >= -128 && hi <= 127) return 'int8';
  return lo >= 0 && hi <= 255 ? 'uint8' : undefined;
}

/** The grid's float32 scales give the tensor's values bit for bit (what a DequantizeLinear will compute). */
function decodes(g: GridFormat, t: Tensor): boolean {
  const v = t.data as Float32Array, n = g.scale.length;
  if (g.q.length !== v.length || (n > 1 && t.shape[g.axis] !== n)) return false;
  const inner = n > 1 ? t.shape.slice(g.axis + 1).reduce((p, d) => p * d, 1) : v.length;
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor(i / inner) % n;
    const d = Math.fround(dequantizeValue(g.q[i], Math.fround(g.scale[c]), g.zero ? g.zero[c] : 0));
    if (d !== v[i] && !(d === 0 && v[i] === 0)) return false;
  }
  return true;
}

/** Per-tensor scale of a value dequantized by a DequantizeLinear of constant parameters, or undefined. */
function inputScale(g: Graph, producers: Map<string, Node>, value: string): number | undefined {
  const dq = producers.get(value);
  const s = dq?.op === 'DequantizeLinear' ? g.initializers.get(dq.inputs[1]) : undefined;
  return s && s.size === 1 ? (s.data[0] as number) : undefined;
}

/** The bias as int32 on the grid f32(sx · sw[c]) when every value lies on it exactly. */
function biasInts(b: Tensor, sx: number, w: GridFormat): { q: Int32Array; scale: Float32Array } | undefined {
  if (b.dtype !== 'float32' || b.shape.length !== 1 || (w.scale.length !== 1 && w.scale.length !== b.size)) return undefined;
  const scale = Float32Array.from({ length: b.size }, (_, c) => Math.fround(sx * w.scale[w.scale.length === 1 ? 0 : c]));
  const q = new Int32Array(b.size), v = b.data as Float32Array;
  for (let c = 0; c < b.size; c++) {
    q[c] = Math.round(v[c] / scale[c]);
    if (Math.abs(q[c]) >= 2 ** 31 || Math.fround(dequantizeValue(q[c], scale[c], 0)) !== v[c]) return undefined;
  }
  return { q, scale };
}

/** A copy of the graph whose 8-bit grid weights (and their biases on the int32 grid) are integers behind DequantizeLinear. */
export function weightsAsQdq(graph: Graph): Graph {
  const g = graph.clone();
  const producers = g.producers(), added: Node[] = [], done = new Set<string>();
  const dequantize = (name: string, q: Tensor, scale: Float32Array, zero: Tensor | undefined, axis: number): void => {
    const base = name.replace(/[^A-Za-z0-9_.]/g, '_');
    g.initializers.set(`${base}_quantized`, q);
    g.initializers.set(`${base}_scale`, f32(scale.length === 1 ? [] : [scale.length], scale));
    if (zero) g.initializers.set(`${base}_zero_point`, zero);
    const inputs = [`${base}_quantized`, `${base}_scale`, ...(zero ? [`${base}_zero_point`] : [])];
    // the DequantizeLinear's output keeps the weight's name: readers, and an importer folding it back, see the same value
    added.push({ name: `${base}_DequantizeLinear`, op: 'DequantizeLinear', inputs, outputs: [name], attrs: scale.length > 1 ? { axis } : {} });
    done.add(name);
    g.initializers.delete(name);
    g.formats.delete(name);
  };
  for (const node of g.nodes) {
    const wName = node.inputs[1], w = wName ? g.initializers.get(wName) : undefined, grid = wName ? g.formats.get(wName) : undefined;
    if (!LAYERS.has(node.op) || !w || grid?.kind !== 'grid' || done.has(wName) || !decodes(grid, w)) continue;
    const type = intType(grid);
    if (!type) continue;
    const zeros = grid.zero ?? new Int32Array(grid.scale.length);
    dequantize(wName, fromNumbers(type, w.shape, grid.q), Float32Array.from(grid.scale), fromNumbers(type, grid.scale.length === 1 ? [] : [grid.scale.length], zeros), grid.axis);
    const sx = inputScale(g, producers, node.inputs[0]), bName = node.inputs[2], b = bName ? g.initializers.get(bName) : undefined;
    const onGrid = sx !== undefined && b && !done.has(bName) && !grid.zero && biasInts(b, sx, grid);
    if (onGrid) dequantize(bName, new Tensor('int32', b.shape, onGrid.q), onGrid.scale, undefined, 0);
  }
  if (added.length === 0) return graph;
  g.nodes = [...added, ...g.nodes];
  return g;
}
