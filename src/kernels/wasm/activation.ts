// Elementwise activations on the arena (relu, relu6, clip): the standalone form
// of the clamp the GEMM / conv epilogues fuse.
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import { activationModule } from './activation_codegen.js';
import { compileCached, instantiate } from './loader.js';

interface ActivationExports {
  clamp(src: number, dst: number, n: number, lo: number, hi: number): void;
}

export type Activation = { kind: 'relu' } | { kind: 'clip'; min: number; max: number };

export function activationRange(a: Activation): [number, number] {
  if (a.kind === 'relu') return [0, Infinity];
  if (a.kind === 'clip') {
    if (!(a.min <= a.max)) fail(`Clip: min=${a.min} is greater than max=${a.max}`);
    return [a.min, a.max];
  }
  return fail(`activation: unknown kind "${(a as { kind: string }).kind}"; expected relu or clip`);
}

export class WasmActivation {
  private readonly exports: ActivationExports;

  constructor(readonly arena: WasmArena) {
    const key = `activation:${arena.shared ? 'shared' : 'private'}`;
    this.exports = instantiate<ActivationExports>(compileCached(key, () => activationModule(arena.shared)), arena);
  }

  /** dst = act(src) for n floats at byte offsets (dst may equal src). */
  run(a: Activation, src: number, dst: number, n: number): void {
    const [lo, hi] = activationRange(a);
    this.exports.clamp(src, dst, n, lo, hi);
  }

  /** act(x) on an array (copied in and out of the arena). */
  apply(a: Activation, x: Float32Array): Float32Array {
    const ar = this.arena, mark = ar.used;
    try {
      const at = ar.allocF32(x.length);
      ar.f32(at, x.length).set(x);
      this.run(a, at, at, x.length);
      return ar.f32(at, x.length).slice();
    } finally {
      ar.reset(mark);
    }
  }
}
