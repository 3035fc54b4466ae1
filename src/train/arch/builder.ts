// A small helper that writes built-in architectures as IR graphs, with PyTorch's
// default initialization (Kaiming-uniform with a = √5, i.e. U(±1/√fan_in) for
// weights, and U(±1/√fan_in) for biases), seeded. Parameter names follow
// PyTorch's module names so exported models look like PyTorch exports.
import { Graph, type Node } from '../../ir/graph.js';
import { f32, i64, type Tensor } from '../../ir/tensor.js';
import { Rng } from '../../ir/random.js';

export interface ArchOptions {
  /** Seeds the weight initialization (default 0). */
  seed?: number;
}

export class ArchBuilder {
  readonly nodes: Node[] = [];
  readonly inits = new Map<string, Tensor>();
  private readonly rng: Rng;

  constructor(seed = 0) {
    this.rng = new Rng(seed);
  }

  private uniform(name: string, shape: number[], bound: number): string {
    const t = f32(shape);
    this.rng.fillUniform(t.data, -bound, bound);
    this.inits.set(name, t);
    return name;
  }

  private node(op: string, name: string, inputs: string[], out: string, attrs: Node['attrs'] = {}): string {
    this.nodes.push({ name, op, inputs, outputs: [out], attrs });
    return out;
  }

  conv(name: string, x: string, cin: number, cout: number, k: number,
    o: { pad?: number; bias?: boolean; out?: string; stride?: number; group?: number } = {}): string {
    const group = o.group ?? 1, s = o.stride ?? 1;
    const bound = 1 / Math.sqrt((cin / group) * k * k);
    const inputs = [x, this.uniform(`${name}.weight`, [cout, cin / group, k, k], bound)];
    if (o.bias ?? true) inputs.push(this.uniform(`${name}.bias`, [cout], bound));
    const p = o.pad ?? 0;
    return this.node('Conv', name, inputs, o.out ?? name, {
      kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [1, 1], group,
    });
  }

  batchNorm(name: string, x: string, c: number): string {
    const set = (suffix: string, v: number) => {
      this.inits.set(`${name}.${suffix}`, f32([c], new Float32Array(c).fill(v)));
      return `${name}.${suffix}`;
    };
    const inputs = [x, set('weight', 1), set('bias', 0), set('running_mean', 0), set('running_var', 1)];
    return this.node('BatchNormalization', name, inputs, name, { epsilon: 1e-5, momentum: 0.9 });
  }

  /** PyTorch Linear: Gemm with transB=1, weight [out, in]. */
  linear(name: string, x: string, fin: number, fout: number, out?: string): string {
    const bound = 1 / Math.sqrt(fin);
    const w = this.uniform(`${name}.weight`, [fout, fin], bound);
    const b = this.uniform(`${name}.bias`, [fout], bound);
    return this.node('Gemm', name, [x, w, b], out ?? name, { alpha: 1, beta: 1, transA: 0, transB: 1 });
  }

  relu(name: string, x: string): string {
    return this.node('Relu', name, [x], name);
  }

  maxPool(name: string, x: string, k: number): string {
    return this.node('MaxPool', name, [x], name, { kernel_shape: [k, k], strides: [k, k], pads: [0, 0, 0, 0] });
  }

  /** x.view(-1, features) as PyTorch exports it (Reshape with allowzero=1). */
  flatten(name: string, x: string, features: number): string {
    this.inits.set(`${name}.shape`, i64([2], [-1, features]));
    return this.node('Reshape', name, [x, `${name}.shape`], name, { allowzero: 1 });
  }

  graph(name: string, inputShape: number[], output: string, classes: number): Graph {
    return new Graph({
      name,
      inputs: [{ name: 'input', dtype: 'float32', shape: ['N', ...inputShape] }],
      outputs: [{ name: output, dtype: 'float32', shape: ['N', classes] }],
      nodes: this.nodes,
      initializers: this.inits,
      opset: 17,
    });
  }
}
