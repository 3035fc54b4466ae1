// A tiny builder of IR graphs for tests: seeded random weights, auto-named values.
import { Graph, type AttrValue, type Dim, type Node, type ValueInfo } from '../../src/ir/graph.js';
import { inferShapes } from '../../src/ir/infer.js';
import { Rng } from '../../src/ir/random.js';
import { Tensor, f32, type DType } from '../../src/ir/tensor.js';

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Tensor>();
  readonly inputs: ValueInfo[] = [];
  private readonly rng: Rng;
  private count = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  input(name: string, shape: Dim[], dtype: DType = 'float32'): string {
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** A seeded random float32 initializer in [-scale, scale). */
  weight(name: string, shape: number[], scale = 0.5, lo = -scale): string {
    const n = shape.reduce((a, b) => a * b, 1);
    this.initializers.set(name, f32(shape, this.rng.floats(n, lo, scale)));
    return name;
  }

  constant(name: string, t: Tensor): string {
    this.initializers.set(name, t);
    return name;
  }

  /** Adds a node; returns its output names (`outputs` of them). */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const id = this.count++;
    const outs = Array.from({ length: outputs }, (_, i) => `${op.toLowerCase()}${id}${outputs > 1 ? `_${i}` : ''}`);
    this.nodes.push({ name: `${op}_${id}`, op, inputs, outputs: outs, attrs });
    return outs;
  }

  /** One-output node. */
  op1(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.op(op, inputs, attrs)[0];
  }

  /** The graph with the given outputs; their declared shapes come from inference (batch dim symbolic if `batch` given). */
  build(outputs: string[], opset: number, batch?: string): Graph {
    const g = new Graph({ name: 'built', inputs: this.inputs, outputs: [], nodes: this.nodes, initializers: this.initializers, opset });
    const types = inferShapes(g);
    g.outputs = outputs.map((name) => {
      const t = types.get(name)!;
      const shape: Dim[] = [...t.shape];
      if (batch && shape.length > 0 && this.inputs.some((v) => v.shape[0] === batch)) shape[0] = batch;
      return { name, dtype: t.dtype, shape };
    });
    return g;
  }
}
