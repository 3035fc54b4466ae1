// The Node implementation of ThreadPool: worker_threads sharing one WebAssembly
// memory, driven synchronously through a shared control block (Atomics), so a
// kernel call stays a plain synchronous function. Node-only: import it from
// Node entry points (CLI, benchmarks, tests), never from browser-safe code.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import type { ThreadPool } from './thread_pool.js';
import { CTRL, MAX_ARGS, SPIN, slotBytes } from './thread_protocol.js';
import { WA, type WasmModule } from './wasm_api.js';

interface Slot { worker: Worker; port: MessagePort; i32: Int32Array; f64: Float64Array; seq: number }

export class NodeThreadPool implements ThreadPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly fnIds = new Map<string, number>();
  private nextFn = 0;

  /** `threads` counts the caller: threads = 2 starts one worker. The arena must be shared. */
  constructor(readonly arena: WasmArena, threads = 2) {
    if (!arena.shared) fail('thread pool: the arena must be created with shared: true');
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) fail(`thread pool: threads=${threads} must be an integer in 1..64`);
    this.size = threads;
    const url = new URL('./thread_worker.js', import.meta.url);
    for (let t = 1; t < threads; t++) {
      const sab = new SharedArrayBuffer(slotBytes());
      const channel = new MessageChannel(); // carries compiled modules (register), read synchronously
      const worker = new Worker(url, {
        workerData: { memory: arena.memory, control: sab, port: channel.port2 },
        transferList: [channel.port2],
      });
      worker.unref();
      this.slots.push({
        worker, port: channel.port1, i32: new Int32Array(sab, 0, CTRL.words), f64: new Float64Array(sab, CTRL.words * 4), seq: 0,
      });
    }
  }

  register(key: string, module: WasmModule): void {
    if (this.slots.length === 0) return;
    const names = WA.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const ids = names.map((n) => {
      const k = `${key}#${n}`;
      if (!this.fnIds.has(k)) this.fnIds.set(k, this.nextFn++);
      return this.fnIds.get(k)!;
    });
    for (const s of this.slots) {
      s.port.postMessage({ module, names, ids });
      this.command(s, CTRL.cmdRegister, []);
    }
    this.waitAll();
  }

  run(key: string, fn: string, args: readonly (readonly number[])[], local: (args: readonly number[]) => void): void {
    if (args.length > this.size) throw new Error(`thread pool: ${args.length} parts for ${this.size} threads`);
    const id = this.fnIds.get(`${key}#${fn}`);
    if (id === undefined) throw new Error(`thread pool: ${key}#${fn} was not registered`);
    for (let t = 1; t < args.length; t++) this.command(this.slots[t - 1], id, args[t]);
    let error: unknown;
    try {
      local(args[0]);
    } catch (e) {
      error = e;
    }
    this.waitAll(args.length - 1);
    if (error) throw error;
  }

  async close(): Promise<void> {
    for (const s of this.slots) {
      s.worker.ref(); // keep the event loop alive until the worker has gone
      const exited = new Promise((r) => s.worker.once('exit', r));
      this.command(s, CTRL.cmdExit, []);
      await exited;
      s.port.close();
    }
    this.slots.length = 0;
  }

  private command(s: Slot, fnId: number, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`thread pool: ${args.length} arguments, at most ${MAX_ARGS}`);
    s.f64.set(args);
    s.i32[CTRL.fn] = fnId;
    s.i32[CTRL.nargs] = args.length;
    s.seq++;
    Atomics.store(s.i32, CTRL.seq, s.seq);
    Atomics.notify(s.i32, CTRL.seq);
  }

  /** Waits until the first `n` workers have finished their command (spin briefly, then sleep). */
  private waitAll(n = this.slots.length): void {
    for (let t = 0; t < n; t++) {
      const s = this.slots[t];
      for (let spin = 0; Atomics.load(s.i32, CTRL.done) !== s.seq; spin++) {
        if (spin > SPIN) Atomics.wait(s.i32, CTRL.done, Atomics.load(s.i32, CTRL.done), 50);
      }
      if (Atomics.load(s.i32, CTRL.error) !== 0) {
        Atomics.store(s.i32, CTRL.error, 0);
        throw new Error('thread pool: a worker failed running a kernel (see its stderr)');
      }
    }
  }
}
