// The Node implementation of ThreadPool: worker_threads sharing one WebAssembly
// memory, driven synchronously through a shared control block (Atomics), so a
// kernel call stays a plain synchronous function. Node-only: import it from
// Node entry points (CLI, benchmarks, tests), never from browser-safe code.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import type { PoolCall, ThreadPool } from './thread_pool.js';
import { CALL_WORDS, CTRL, SPIN, TEAM, claimWord, slotBytes, teamBytes } from './thread_protocol.js';
import { WA, type WasmModule } from './wasm_api.js';

interface Slot { worker: Worker; port: MessagePort; i32: Int32Array; f64: Float64Array; seq: number }

type Fn = (...args: number[]) => void;

export class NodeThreadPool implements ThreadPool {
  readonly size: number;
  /** Commands run, and the time the caller spent waiting for workers after finishing its own part (load imbalance, wake-ups). */
  readonly stats = { runs: 0, waitMs: 0 };
  private readonly slots: Slot[] = [];
  private readonly fnIds = new Map<string, number>();
  private readonly localFns = new Map<string, Fn>(); // the calling thread's instances
  private readonly team = new SharedArrayBuffer(teamBytes());
  private gen = 0; // dynamic runs so far (tags the team queue's claims)
  private readonly teamI32 = new Int32Array(this.team, 0, TEAM.offsets + TEAM.maxCalls);
  private readonly teamF64 = new Float64Array(this.team, (TEAM.offsets + TEAM.maxCalls) * 4);

  /** `threads` counts the caller: threads = 2 starts one worker. The arena must be shared. */
  constructor(readonly arena: WasmArena, threads = 2) {
    if (!arena.shared) fail('thread pool: the arena must be created with shared: true');
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) fail(`thread pool: threads=${threads} must be an integer in 1..64`);
    this.size = threads;
    const url = new URL('./thread_worker.js', import.meta.url);
    for (let t = 1; t < threads; t++) {
      const sab = new SharedArrayBuffer(slotBytes());
      const channel = new MessageChannel(); // carries compiled modules (register), read synchronously
      const worker = new Worker(url, { workerData: { memory: arena.memory, control: sab, port: channel.port2, team: this.team }, transferList: [channel.port2] });
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
    const t0 = performance.now();
    this.waitAll(Math.max(0, parts.length - 1));
    this.stats.runs++;
    this.stats.waitMs += performance.now() - t0;
    if (error) throw error;
  }

  /**
   * Runs independent items (a call, or calls in order) on all threads with
   * dynamic scheduling: each thread (the caller included) takes the next item
   * from a shared queue, so a worker that is slow to wake (or runs on a slower
   * core) costs no more than its share of what is left. Returns when all are done.
   */
  runDynamic(items: readonly (PoolCall | readonly PoolCall[])[]): void {
    const lists = items.map((it) => ('fn' in it ? [it as PoolCall] : (it as readonly PoolCall[])));
    if (this.slots.length === 0 || lists.length <= 1) {
      for (const l of lists) for (const c of l) this.local(c)(...c.args);
      return;
    }
    if (lists.length > TEAM.maxCalls) throw new Error(`thread pool: more than ${TEAM.maxCalls} items in one dynamic run`);
    const team = this.teamI32, n = lists.length, gen = ++this.gen;
    // close the queue under the new generation first: a claim read earlier can then no longer succeed
    Atomics.store(team, TEAM.claim, claimWord(gen, 0xffff));
    let at = 0;
    lists.forEach((l, i) => {
      team[TEAM.offsets + i] = at;
      this.teamF64[at++] = l.length;
      for (const c of l) at = this.encode(this.teamF64, at, c);
    });
    Atomics.store(team, TEAM.finished, 0);
    Atomics.store(team, TEAM.error, 0);
    Atomics.store(team, TEAM.count, n);
    Atomics.store(team, TEAM.claim, claimWord(gen, 0)); // last: opens the queue to this run
    // a worker still on its way from an earlier team command will find this run's queue by itself
    for (const s of this.slots) if (this.idle(s)) this.command(s, CTRL.cmdTeam, []);
    let error: unknown;
    for (;;) {
      const w = Atomics.load(team, TEAM.claim), i = w & 0xffff;
      if (i >= n) break;
      if (Atomics.compareExchange(team, TEAM.claim, w, w + 1) !== w) continue;
      try {
        for (const c of lists[i]) this.local(c)(...c.args);
      } catch (e) {
        error ??= e;
      }
      Atomics.add(team, TEAM.finished, 1);
    }
    // wait for the calls the workers took (not for the workers: one that wakes late finds the queue empty)
    const t0 = performance.now();
    for (let spin = 0, done = Atomics.load(team, TEAM.finished); done < n; spin++, done = Atomics.load(team, TEAM.finished)) {
      if (spin > SPIN) Atomics.wait(team, TEAM.finished, done, 50);
    }
    this.stats.runs++;
    this.stats.waitMs += performance.now() - t0;
    if (error) throw error;
    if (Atomics.load(team, TEAM.error)) throw new Error('thread pool: a worker failed running a kernel (see its stderr)');
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

  /** Writes call c as f64 words [fnId, nargs, args...] at `at`; returns the next free word. */
  private encode(words: Float64Array, at: number, c: PoolCall): number {
    const id = this.fnIds.get(`${c.key}#${c.fn}`);
    if (id === undefined) throw new Error(`thread pool: ${c.key}#${c.fn} was not registered`);
    if (at + 2 + c.args.length > CALL_WORDS) throw new Error(`thread pool: more than ${CALL_WORDS} words of calls in one command`);
    words[at] = id;
    words[at + 1] = c.args.length;
    words.set(c.args, at + 2);
    return at + 2 + c.args.length;
  }

  private idle(s: Slot): boolean {
    return Atomics.load(s.i32, CTRL.done) === s.seq;
  }

  /** Posts a command to a worker, after it has taken the previous one (its call area is then free). */
  private command(s: Slot, calls: number, list: readonly PoolCall[]): void {
    if (!this.idle(s)) this.waitDone(s);
    let at = 0;
    for (const c of list) at = this.encode(s.f64, at, c);
    s.i32[CTRL.calls] = calls;
    s.seq++;
    Atomics.store(s.i32, CTRL.seq, s.seq);
    Atomics.notify(s.i32, CTRL.seq);
  }

  /** Waits until a worker has finished its last command (spin briefly, then sleep). */
  private waitDone(s: Slot): void {
    for (let spin = 0; Atomics.load(s.i32, CTRL.done) !== s.seq; spin++) {
      if (spin > SPIN) Atomics.wait(s.i32, CTRL.done, Atomics.load(s.i32, CTRL.done), 50);
    }
  }

  /** Waits until the first `n` workers have finished their command; throws if one failed. */
  private waitAll(n: number): void {
    let failed = false;
    for (let t = 0; t < n; t++) {
      const s = this.slots[t];
      this.waitDone(s);
      if (Atomics.load(s.i32, CTRL.error) !== 0) { Atomics.store(s.i32, CTRL.error, 0); failed = true; }
    }
    if (failed) throw new Error('thread pool: a worker failed running a kernel (see its stderr)');
  }
}
