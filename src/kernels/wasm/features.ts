// What the running engine supports, found by validating tiny modules (the
// reliable way: a flag or a version number says nothing about the engine).
import { ModuleBuilder } from './emitter.js';
import { V128 } from './opcodes.js';
import { WA } from './wasm_api.js';

export interface WasmFeatures {
  /** Fixed-width SIMD (v128): required by every kernel here. */
  simd: boolean;
  /** Relaxed SIMD (f32x4.relaxed_madd): Node 20 needs --experimental-wasm-relaxed-simd. */
  relaxedSimd: boolean;
  /** Shared memory (threads proposal) and a SharedArrayBuffer to back it. */
  threads: boolean;
}

function validates(build: (m: ModuleBuilder) => void): boolean {
  try {
    const m = new ModuleBuilder();
    build(m);
    return WA !== undefined && WA.validate(m.build());
  } catch {
    return false;
  }
}

let cached: WasmFeatures | undefined;

export function wasmFeatures(): WasmFeatures {
  if (cached) return cached;
  const simd = validates((m) => m.func(undefined, [V128], [V128], (f) => f.get(f.params[0]).get(f.params[0]).op('f32x4.add')));
  const relaxedSimd = validates((m) =>
    m.func(undefined, [V128], [V128], (f) => {
      const x = f.params[0];
      f.get(x).get(x).get(x).op('f32x4.relaxed_madd');
    }));
  const threads = typeof SharedArrayBuffer === 'function' &&
    validates((m) => m.importMemory({ module: 'env', name: 'memory', initial: 1, maximum: 1, shared: true }));
  cached = { simd, relaxedSimd, threads };
  return cached;
}
