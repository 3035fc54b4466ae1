// The machine's ceiling for the multiply-adds every conv kernel here is made of, as
// V8 compiles WebAssembly SIMD (128-bit, f32x4.mul then f32x4.add, no FMA without
// relaxed SIMD): a loop of 12 independent accumulators, each step acc += load · w with
// the loads from a 1 KiB buffer (L1). A kernel's vector multiply-adds per ns divided
// by this peak says how close to the hardware it runs (bench/pattern.ts prints it).
// simdPeakPerThread: the same loop on each thread of a pool, alone: whether the cores a
// multi-thread figure runs on are equally fast (a VM's vCPUs need not be); and on every
// thread at once: whether they add up (two vCPUs on one core's SMT siblings share its
// FP pipes, so a kernel near the peak cannot gain from the second, a slower one can).
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { ModuleBuilder } from '../src/kernels/wasm/emitter.js';
import { compileCached, instantiate, memoryImport } from '../src/kernels/wasm/loader.js';
import { I32, V128 } from '../src/kernels/wasm/opcodes.js';

const ACCS = 12;

function peakModule(shared = false): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(shared));
  m.func('run', [I32, I32, I32], [], (f) => {
    const [buf, steps, out] = f.params;
    const i = f.local(I32), p = f.local(I32), w = f.local(V128);
    const acc = Array.from({ length: ACCS }, () => f.local(V128));
    f.f32x4(1.0001).set(w);
    f.forUp(i, 0, steps, 1, () => {
      for (let a = 0; a < ACCS; a++) f.get(acc[a]).get(buf).get(p).op('i32.add').mem('v128.load', 16 * a).get(w).op('f32x4.mul').op('f32x4.add').set(acc[a]);
      f.get(p).i32(16 * ACCS).op('i32.add').i32(1023).op('i32.and').set(p);
    });
    // every accumulator stored, so none of the work is dead
    for (let a = 0; a < ACCS; a++) f.get(out).get(acc[a]).mem('v128.store', 16 * a);
  });
  return m.build();
}

/** One call of the probe: `macs` f32x4 multiply-adds (time it beside a kernel, as bench/pattern.ts does). */
export function simdPeakProbe(macs = 1_200_000): { run(): void; macs: number } {
  const arena = new WasmArena({ maximumBytes: 1 << 20 });
  const buf = arena.alloc(1024 + 16 * ACCS), out = arena.alloc(16 * ACCS);
  const { run } = instantiate<{ run(buf: number, steps: number, out: number): void }>(compileCached('bench:simd-peak', peakModule), arena);
  const steps = Math.ceil(macs / ACCS);
  return { run: () => run(buf, steps, out), macs: steps * ACCS };
}

/**
 * f32x4 multiply-adds per ns of the probe on each thread of a `threads`-thread pool (the caller
 * first), each timed alone (the fastest of `rounds` wall times; a call is long enough that waking
 * a worker costs under 1%), each thread on a buffer of its own; and of all threads at once, summed.
 */
export async function simdPeakPerThread(threads: number, rounds = 9, macs = 24_000_000): Promise<{ alone: number[]; together: number }> {
  const arena = new WasmArena({ shared: true, maximumBytes: 1 << 20 });
  const pool = new NodeThreadPool(arena, threads);
  try {
    const key = 'bench:simd-peak:shared';
    pool.register(key, compileCached(key, () => peakModule(true)));
    const steps = Math.ceil(macs / ACCS);
    const calls = Array.from({ length: threads }, () => {
      const buf = arena.alloc(1024 + 16 * ACCS), out = arena.alloc(16 * ACCS);
      return { key, fn: 'run', args: [buf, steps, out] };
    });
    const best = calls.map(() => Infinity);
    let together = Infinity;
    for (let r = 0; r < rounds; r++) {
      calls.forEach((c, t) => {
        const parts = Array.from({ length: t + 1 }, (_, u) => (u === t ? [c] : [])); // thread t alone
        const t0 = performance.now();
        pool.run(parts);
        best[t] = Math.min(best[t], performance.now() - t0);
      });
      const t0 = performance.now();
      pool.run(calls.map((c) => [c]));
      together = Math.min(together, performance.now() - t0);
    }
    const rate = (ms: number, calls: number) => (calls * steps * ACCS) / (ms * 1e6);
    return { alone: best.map((ms) => rate(ms, 1)), together: rate(together, threads) };
  } finally {
    await pool.close();
  }
}
