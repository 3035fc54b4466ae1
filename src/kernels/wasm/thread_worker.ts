// The worker side of the thread pool, for Node and browsers alike: instantiates
// registered kernel modules on the shared memory and runs the calls of each
// command until told to exit. Self-contained on purpose (no imports at run time,
// the protocol's constants come in as an argument): the browser pool starts it
// from its source text in a Blob worker, so a bundle needs no separate worker file.
import type { ModuleMessage, Protocol, WorkerInit } from './thread_protocol.js';
import type { WasmApi } from './wasm_api.js';

export interface ThreadWorker {
  /**
   * Runs commands until the exit command ('exit'), or until a register command
   * whose module has not arrived yet ('register'): a browser worker can only
   * receive it from its event loop, so it returns there, then calls register().
   */
  serve(): 'exit' | 'register';
  /** Instantiates a module that arrived as a message and completes the register command; call serve() next. */
  register(msg: ModuleMessage): void;
}

/** `receive` returns the module of a register command when it can be read synchronously (Node), else undefined. */
export function threadWorker(init: WorkerInit, K: Protocol, receive: () => ModuleMessage | undefined): ThreadWorker {
  const { CTRL, TEAM, SPIN } = K;
  const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const i32 = new Int32Array(init.control, 0, CTRL.words);
  const f64 = new Float64Array(init.control, CTRL.words * 4);
  const teamI32 = new Int32Array(init.team, 0, TEAM.offsets + TEAM.maxCalls);
  const teamF64 = new Float64Array(init.team, (TEAM.offsets + TEAM.maxCalls) * 4);
  const fns: ((...args: number[]) => void)[] = [];
  let seen = 0;

  function instantiate(msg: ModuleMessage): void {
    const inst = new WA.Instance(msg.module, { env: { memory: init.memory } });
    msg.names.forEach((n, k) => { fns[msg.ids[k]] = inst.exports[n] as (...args: number[]) => void; });
  }

  /**
   * One argument array per arity, reused (filled with a double so it holds the f64 words without a
   * change of kind): a spread of a fresh array per call cost ~0.5 µs (VGG-S's 14×14 pattern conv ran
   * 8% slower on a worker than on the caller).
   */
  const argv: number[][] = [];

  /** Runs the call encoded at word `at` of `words`; returns the word after it. */
  function call(words: Float64Array, at: number): number {
    const fn = words[at], n = words[at + 1];
    const args = argv[n] ?? (argv[n] = new Array<number>(n).fill(0.5));
    for (let k = 0; k < n; k++) args[k] = words[at + 2 + k];
    Reflect.apply(fns[fn], undefined, args);
    return at + 2 + n;
  }

  /**
   * Takes items from the team queue until it is empty. The queue is read live (not
   * the run the command was for): a worker that wakes late simply helps with the
   * current run; the generation in the claim word makes a stale claim fail.
   */
  function runTeam(): void {
    for (;;) {
      const w = Atomics.load(teamI32, TEAM.claim);
      const count = Atomics.load(teamI32, TEAM.count);
      const i = w & 0xffff;
      if (i >= count) return;
      if (Atomics.compareExchange(teamI32, TEAM.claim, w, w + 1) !== w) continue;
      try {
        let at = teamI32[TEAM.offsets + i];
        const n = teamF64[at++];
        for (let c = 0; c < n; c++) at = call(teamF64, at);
      } catch (e) {
        console.error('nnzip thread worker:', e);
        Atomics.store(teamI32, TEAM.error, 1);
      } finally {
        if (Atomics.add(teamI32, TEAM.finished, 1) + 1 === count) Atomics.notify(teamI32, TEAM.finished);
      }
    }
  }

  function attempt(work: () => void): void {
    try {
      work();
    } catch (e) {
      console.error('nnzip thread worker:', e);
      Atomics.store(i32, CTRL.error, 1);
    }
  }

  function finish(): void {
    Atomics.store(i32, CTRL.done, seen);
    Atomics.notify(i32, CTRL.done);
  }

  function serve(): 'exit' | 'register' {
    for (;;) {
      for (let spin = 0; Atomics.load(i32, CTRL.seq) === seen; spin++) {
        if (spin > SPIN) Atomics.wait(i32, CTRL.seq, seen);
      }
      seen = Atomics.load(i32, CTRL.seq);
      const calls = i32[CTRL.calls];
      if (calls === CTRL.cmdExit) return 'exit';
      if (calls === CTRL.cmdRegister) {
        const msg = receive();
        if (!msg) return 'register';
        attempt(() => instantiate(msg));
      } else if (calls === CTRL.cmdTeam) {
        attempt(runTeam);
      } else {
        attempt(() => { for (let c = 0, at = 0; c < calls; c++) at = call(f64, at); });
      }
      finish();
    }
  }

  return {
    serve,
    register(msg) {
      attempt(() => instantiate(msg));
      finish();
    },
  };
}
