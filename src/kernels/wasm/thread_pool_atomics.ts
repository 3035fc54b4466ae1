// The calling side of a ThreadPool over shared WebAssembly memory, for any kind
// of worker: commands go through a shared control block per worker and a team
// queue (thread_protocol.ts), driven synchronously with Atomics, so a kernel call
// stays a plain synchronous function. Subclasses start the workers and carry the
// compiled modules to them: NodeThreadPool (worker_threads), WebThreadPool (Web Workers).
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import type { PoolCall, ThreadPool } from './thread_pool.js';
import { CALL_WORDS, CTRL, SPIN, TEAM, claimWord, slotBytes, teamBytes, type ModuleMessage, type WorkerInit } from './thread_protocol.js';
import { WA, type WasmModule } from './wasm_api.js';

interface Slot { i32: Int32Array; f64: Float64Array; seq: number }

type Fn = (...args: number[]) => void;

export abstract class AtomicsThreadPool implements ThreadPool {
  readonly size: number;
  /** Commands run, and the time the caller spent waiting for workers after finishing its own part (load imbalance, wake-ups). */
  readonly stats = { runs: 0, waitMs: 0 };
  private readonly slots: Slot[] = [];
  /**
   * Per module key, per export: its id in encoded calls and the calling thread's instance of it.
   * Two levels, not one `${key}#${fn}` string: a call's key is the same string object every time,
   * whose hash V8 keeps, where a joined string is hashed anew (a pattern module's key has ~300
   * characters: ~0.7 µs a lookup, 0.1–0.3 ms per batch-64 run of a layer).
   */
  private readonly fns = new Map<string, Map<string, { id: number; local: Fn }>>();
  private fnCount = 0;
  private readonly team = new SharedArrayBuffer(teamBytes());
  private gen = 0; // dynamic runs so far (tags the team queue's claims)
  private readonly teamI32 = new Int32Array(this.team, 0, TEAM.offsets + TEAM.maxCalls);
  private readonly teamF64 = new Float64Array(this.team, (TEAM.offsets + TEAM.maxCalls) * 4);

  /**
   * `threads` counts the caller: threads = 2 means one worker. The arena must be
   * shared. `canBlock`: the caller may sleep in Atomics.wait (a browser's main
   * thread may not, so it only spins while it waits).
   */
  constructor(readonly arena: WasmArena, threads: number, private readonly canBlock = true) {
    if (!arena.shared) fail('thread pool: the arena must be created with shared: true');
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) fail(`thread pool: threads=${threads} must be an integer in 1..64`);
    this.size = threads;
  }

  /** Makes the control block of the next worker; the subclass starts a worker on what this returns. */
  protected addWorker(): WorkerInit {
    const control = new SharedArrayBuffer(slotBytes());
    this.slots.push({ i32: new Int32Array(control, 0, CTRL.words), f64: new Float64Array(control, CTRL.words * 4), seq: 0 });
    return { memory: this.arena.memory, control, team: this.team };
  }

  /** Hands a module to worker t; it reads it when it takes the register command that follows. */
  protected abstract postModule(t: number, msg: ModuleMessage): void;

  /** Stops worker t; `sendExit` posts the exit command (call it once the worker's end can be awaited). */
  protected abstract stopWorker(t: number, sendExit: () => void): Promise<void>;

  register(key: string, module: WasmModule): void {
    const names = WA.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const known = this.fns.get(key) ?? new Map<string, { id: number; local: Fn }>();
    if (names.every((n) => known.has(n))) return; // same key, same code: already everywhere
    this.fns.set(key, known);
    const inst = new WA.Instance(module, { env: { memory: this.arena.memory } });
    const ids = names.map((n) => {
      const id = known.get(n)?.id ?? this.fnCount++;
      known.set(n, { id, local: inst.exports[n] as Fn });
      return id;
    });
    this.slots.forEach((s, t) => {
      if (!this.idle(s)) this.waitDone(s);
      this.postModule(t, { module, names, ids });
      this.command(s, CTRL.cmdRegister, []);
    });
    this.waitAll(this.slots.length);
  }

  run(parts: readonly (readonly PoolCall[])[]): void {
    if (parts.length > this.size) throw new Error(`thread pool: ${parts.length} parts for ${this.size} threads`);
    for (let t = 1; t < parts.length; t++) this.command(this.slots[t - 1], parts[t].length, parts[t]);
    let error: unknown;
    try {
      for (const c of parts[0] ?? []) this.fn(c).local(...c.args);
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
      for (const l of lists) for (const c of l) this.fn(c).local(...c.args);
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
        for (const c of lists[i]) this.fn(c).local(...c.args);
      } catch (e) {
        error ??= e;
      }
      Atomics.add(team, TEAM.finished, 1);
    }
    // wait for the calls the workers took (not for the workers: one that wakes late finds the queue empty)
    const t0 = performance.now();
    for (let spin = 0, done = Atomics.load(team, TEAM.finished); done < n; spin++, done = Atomics.load(team, TEAM.finished)) {
      if (spin > SPIN && this.canBlock) Atomics.wait(team, TEAM.finished, done, 50);
    }
    this.stats.runs++;
    this.stats.waitMs += performance.now() - t0;
    if (error) throw error;
    if (Atomics.load(team, TEAM.error)) throw new Error('thread pool: a worker failed running a kernel (see its console)');
  }

  async close(): Promise<void> {
    for (let t = 0; t < this.slots.length; t++) {
      const s = this.slots[t];
      await this.stopWorker(t, () => this.command(s, CTRL.cmdExit, []));
    }
    this.slots.length = 0;
  }

  /** Call c's function: its id in encoded calls and the calling thread's instance. */
  private fn(c: PoolCall): { id: number; local: Fn } {
    const f = this.fns.get(c.key)?.get(c.fn);
    if (!f) throw new Error(`thread pool: ${c.key}#${c.fn} was not registered`);
    return f;
  }

  /** Writes call c as f64 words [fnId, nargs, args...] at `at`; returns the next free word. */
  private encode(words: Float64Array, at: number, c: PoolCall): number {
    const id = this.fn(c).id;
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

  /** Waits until a worker has finished its last command (spin briefly, then sleep where the caller may). */
  private waitDone(s: Slot): void {
    for (let spin = 0; Atomics.load(s.i32, CTRL.done) !== s.seq; spin++) {
      if (spin > SPIN && this.canBlock) Atomics.wait(s.i32, CTRL.done, Atomics.load(s.i32, CTRL.done), 50);
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
    if (failed) throw new Error('thread pool: a worker failed running a kernel (see its console)');
  }
}
