// Test helpers for thinning: small graphs built in IR (seeded weights), parameter
// counts, the zeroed-consumer reference, and output comparison via runReference.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Graph as GraphT, Node } from '../../../src/ir/graph.js';
import { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { f32, i64, isFloat, sizeOf, type Tensor } from '../../../src/ir/tensor.js';
import { loadOnnxFile } from '../../../src/onnx/load.js';
import { runReference } from '../../../src/runtime/reference.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export function fixture(name: string): GraphT {
  return loadOnnxFile(join(REPO, 'fixtures', 'models', `${name}.onnx`));
}

/** Float parameters in the graph (weights, biases, BatchNorm statistics). */
export function paramCount(g: GraphT): number {
  let n = 0;
  for (const t of g.initializers.values()) if (isFloat(t.dtype)) n += t.size;
  return n;
}

/** Builds a graph node by node; weights are seeded uniform values. */
export class Builder {
  readonly nodes: Node[] = [];
  readonly inits = new Map<string, Tensor>();
  private n = 0;
  constructor(readonly rng: Rng, readonly input: { name: string; shape: (number | string)[] }) {}

  private weight(name: string, shape: number[], lo = -0.5, hi = 0.5): string {
    this.inits.set(name, f32(shape, this.rng.floats(sizeOf(shape), lo, hi)));
    return name;
  }

  node(op: string, inputs: string[], attrs: Node['attrs'] = {}, name = `${op.toLowerCase()}${++this.n}`): string {
    this.nodes.push({ name, op, inputs, outputs: [`${name}_out`], attrs });
    return `${name}_out`;
  }

  conv(name: string, x: string, cin: number, cout: number, k: number, opts: { group?: number; bias?: boolean } = {}): string {
    const group = opts.group ?? 1;
    const inputs = [x, this.weight(`${name}.weight`, [cout, cin / group, k, k])];
    if (opts.bias !== false) inputs.push(this.weight(`${name}.bias`, [cout]));
    const p = (k - 1) / 2;
    return this.node('Conv', inputs, { group, kernel_shape: [k, k], pads: [p, p, p, p], strides: [1, 1] }, name);
  }

  /** BatchNormalization with positive shifts (β > 0 survives a Relu) and positive variances. */
  bn(name: string, x: string, c: number): string {
    const ins = [x, this.weight(`${name}.weight`, [c], 0.5, 1.5), this.weight(`${name}.bias`, [c], 0.5, 1.5)];
    ins.push(this.weight(`${name}.running_mean`, [c], -0.3, 0.3), this.weight(`${name}.running_var`, [c], 0.5, 2));
    return this.node('BatchNormalization', ins, { epsilon: 1e-5 }, name);
  }

  gemm(name: string, x: string, inF: number, outF: number): string {
    return this.node('Gemm', [x, this.weight(`${name}.weight`, [outF, inF]), this.weight(`${name}.bias`, [outF])], { transB: 1 }, name);
  }

  /** The graph whose output is the last node's output (renamed "out"). */
  build(outShape: (number | string)[]): GraphT {
    this.nodes[this.nodes.length - 1].outputs[0] = 'out';
    return new Graph({
      name: 'test',
      inputs: [{ name: this.input.name, dtype: 'float32', shape: this.input.shape }],
      outputs: [{ name: 'out', dtype: 'float32', shape: outShape }],
      nodes: this.nodes,
      initializers: this.inits,
      opset: 17,
    });
  }
}

/**
 * The reference for thinning: the original graph with the removed channels'
 * contributions cut where they are consumed — the consumer weight's slices along
 * `axis` at `positions` set to zero. Everything upstream stays untouched, so a
 * removed channel whose BatchNorm shift is nonzero is still cut correctly.
 */
export function zeroSlices(g: GraphT, weight: string, axis: number, positions: Iterable<number>): GraphT {
  const out = g.clone();
  const t = (out.initializers.get(weight) as Tensor<'float32'>).clone();
  const outer = sizeOf(t.shape.slice(0, axis));
  const n = t.shape[axis];
  const inner = sizeOf(t.shape.slice(axis + 1));
  for (const p of positions) {
    assert.ok(p >= 0 && p < n, `position ${p} outside [0, ${n}) of ${weight}`);
    for (let o = 0; o < outer; o++) t.data.fill(0, (o * n + p) * inner, (o * n + p + 1) * inner);
  }
  out.initializers.set(weight, t);
  return out;
}

/** Indices in [0, n) not in keep. */
export function removed(n: number, keep: Int32Array): number[] {
  const k = new Set(keep);
  return Array.from({ length: n }, (_, i) => i).filter((i) => !k.has(i));
}

/** Each removed channel c as the block [c·block, (c+1)·block) (Flatten's columns). */
export function blocks(channels: number[], block: number, offset = 0): number[] {
  return channels.flatMap((c) => Array.from({ length: block }, (_, r) => offset + c * block + r));
}

/** A random ascending subset of [0, n) of size k. */
export function randomKeep(rng: Rng, n: number, k: number): Int32Array {
  const idx = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  return Int32Array.from(idx.slice(0, k)).sort();
}

export function i64Shape(v: number[]): Tensor {
  return i64([v.length], v);
}

/** Random inputs for the graph's single input (symbolic dims = batch). */
export function randomFeeds(g: GraphT, rng: Rng, batch: number): Record<string, Tensor> {
  const v = g.inputs[0];
  const shape = v.shape.map((d) => (typeof d === 'number' ? d : batch));
  return { [v.name]: f32(shape, rng.floats(sizeOf(shape), 0, 1)) };
}

/** Asserts every output of `actual` equals `expected`'s within rel × max|expected|. */
export function assertSameOutputs(actual: GraphT, expected: GraphT, feeds: Record<string, Tensor>, rel = 1e-5): void {
  const a = runReference(actual, feeds);
  const e = runReference(expected, feeds);
  for (const [name, te] of Object.entries(e)) {
    const ta = a[name];
    assert.deepEqual(ta.shape, te.shape, `output ${name}: shape`);
    let scale = 0;
    for (let i = 0; i < te.size; i++) scale = Math.max(scale, Math.abs(Number(te.data[i])));
    assert.ok(scale > 0, `output ${name} is all zero: the comparison would prove nothing`);
    for (let i = 0; i < te.size; i++) {
      const d = Math.abs(Number(ta.data[i]) - Number(te.data[i]));
      if (!(d <= rel * scale)) assert.fail(`output ${name}[${i}] of [${te.shape}]: ${ta.data[i]} vs reference ${te.data[i]} (|diff| ${d} > ${rel} × ${scale})`);
    }
  }
}
