// The Node implementation of ThreadPool: worker_threads sharing one WebAssembly
// memory, driven synchronously through a shared control block (Atomics), so a
// kernel call stays a plain synchronous function. Node-only: import it from
// Node entry points (CLI, benchmarks, tests), never from browser-safe code.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import type { PoolCall, ThreadPool } from './thread_pool.js';
import { CALL_WORDS, CTRL, SPIN, slotBytes } from './thread_protocol.js';
import { WA, type WasmModule } from './wasm_api.js';

interface Slot { worker: Worker; port: MessagePort; i32: Int32Array; f64: Float64Array; seq: number }

type Fn = (...args: number[]) => void;

export class NodeThreadPool implements ThreadPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly fnIds = new Map<string, number>();
  private readonly localFns = new Map<string, Fn>(); // the calling thread's instances

  /** `threads` counts the caller: threads = 2 starts one worker. The arena must be shared. */
  constructor(readonly arena: WasmArena, threads = 2) {
    if (!arena.shared) fail('thread pool: the arena must be created with shared: true');
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) fail(`thread pool: threads=${threads} must be an integer in 1..64`);
    this.size = threads;
    const url = new URL('./thread_worker.js', import.meta.url);
    for (let t = 1; t < threads; t++) {
      const sab = new SharedArrayBuffer(slotBytes());
      const channel = new MessageChannel(); // carries compiled modules (register), read synchronously
      const worker = new Worker(url, { workerData: { memory: arena.memory, control: sab, port: channel.port2 }, transferList: [channel.port2] });
      worker.unref();
      this.slots.push({ worker, port: channel.port1, i32: new Int32Array(sab, 0, CTRL.words), f64: new Float64Array(sab, CTRL.words * 4), seq: 0 });
    }
  }

  register(key: string, module: WasmModule): void {
    const names = WA.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    if (names.every((n) => this.localFns.has(`${key}#${n}`))) return; // same key, same code: already everywhere
    const inst = new WA.Instance(module, { env: { memory: this.arena.memory } });
    const ids = names.map((n) => {
      const k = `${key}#${n}`;
      this.localFns.set(k, inst.exports[n] as Fn);
      if (!this.fnIds.has(k)) this.fnIds.set(k, this.fnIds.size);
      return this.fnIds.get(k)!;
    });
    for (const s of this.slots) {
      s.port.postMessage({ module, names, ids });
      this.command(s, CTRL.cmdRegister, []);
    }
    this.waitAll(this.slots.length);
  }

  run(parts: readonly (readonly PoolCall[])[]): void {
    if (parts.length > this.size) throw new Error(`thread pool: ${parts.length} parts for ${this.size} threads`);
    for (let t = 1; t < parts.length; t++) this.command(this.slots[t - 1], parts[t].length, parts[t]);
    let error: unknown;
    try {
      for (const c of parts[0] ?? []) this.local(c)(...c.args);
    } catch (e) {
      error = e;
    }
    this.waitAll(Math.max(0, parts.length - 1));
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

  private local(c: PoolCall): Fn {
    const f = this.localFns.get(`${c.key}#${c.fn}`);
    if (!f) throw new Error(`thread pool: ${c.key}#${c.fn} was not registered`);
    return f;
  }

  private command(s: Slot, calls: number, list: readonly PoolCall[]): void {
    let at = 0;
    for (const c of list) {
      const id = this.fnIds.get(`${c.key}#${c.fn}`);
      if (id === undefined) throw new Error(`thread pool: ${c.key}#${c.fn} was not registered`);
      if (at + 2 + c.args.length > CALL_WORDS) throw new Error(`thread pool: more than ${CALL_WORDS} words of calls in one command`);
      s.f64[at] = id;
      s.f64[at + 1] = c.args.length;
      s.f64.set(c.args, at + 2);
      at += 2 + c.args.length;
    }
    s.i32[CTRL.calls] = calls;
    s.seq++;
    Atomics.store(s.i32, CTRL.seq, s.seq);
    Atomics.notify(s.i32, CTRL.seq);
  }

  /** Waits until the first `n` workers have finished their command (spin briefly, then sleep). */
  private waitAll(n: number): void {
    let failed = false;
    for (let t = 0; t < n; t++) {
      const s = this.slots[t];
      for (let spin = 0; Atomics.load(s.i32, CTRL.done) !== s.seq; spin++) {
        if (spin > SPIN) Atomics.wait(s.i32, CTRL.done, Atomics.load(s.i32, CTRL.done), 50);
      }
      if (Atomics.load(s.i32, CTRL.error) !== 0) { Atomics.store(s.i32, CTRL.error, 0); failed = true; }
    }
    if (failed) throw new Error('thread pool: a worker failed running a kernel (see its stderr)');
  }
}
