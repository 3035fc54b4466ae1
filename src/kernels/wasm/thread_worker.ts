// Worker thread of NodeThreadPool: instantiates registered kernel modules on the
// shared memory and runs the calls of each command until told to exit.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { CTRL, SPIN, TEAM } from './thread_protocol.js';
import { WA, type WasmMemory, type WasmModule } from './wasm_api.js';

const { memory, control, port, team } = workerData as { memory: WasmMemory; control: SharedArrayBuffer; port: MessagePort; team: SharedArrayBuffer };
const i32 = new Int32Array(control, 0, CTRL.words);
const f64 = new Float64Array(control, CTRL.words * 4);
const fns: ((...args: number[]) => void)[] = [];
const teamI32 = new Int32Array(team, 0, TEAM.offsets + TEAM.maxCalls);
const teamF64 = new Float64Array(team, (TEAM.offsets + TEAM.maxCalls) * 4);

function register(): void {
  const msg = receiveMessageOnPort(port);
  if (!msg) throw new Error('thread worker: register command without a module');
  const { module, names, ids } = msg.message as { module: WasmModule; names: string[]; ids: number[] };
  const inst = new WA.Instance(module, { env: { memory } });
  names.forEach((n, k) => { fns[ids[k]] = inst.exports[n] as (...args: number[]) => void; });
}

/** Runs the call encoded at word `at` of `words`; returns the word after it. */
function call(words: Float64Array, at: number): number {
  const fn = words[at], n = words[at + 1];
  fns[fn](...Array.from(words.subarray(at + 2, at + 2 + n)));
  return at + 2 + n;
}

function runCalls(count: number): void {
  for (let c = 0, at = 0; c < count; c++) at = call(f64, at);
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

let seen = 0;
for (;;) {
  for (let spin = 0; Atomics.load(i32, CTRL.seq) === seen; spin++) {
    if (spin > SPIN) Atomics.wait(i32, CTRL.seq, seen);
  }
  seen = Atomics.load(i32, CTRL.seq);
  const calls = i32[CTRL.calls];
  if (calls === CTRL.cmdExit) break;
  try {
    if (calls === CTRL.cmdRegister) register();
    else if (calls === CTRL.cmdTeam) runTeam();
    else runCalls(calls);
  } catch (e) {
    console.error('nnzip thread worker:', e);
    Atomics.store(i32, CTRL.error, 1);
  }
  Atomics.store(i32, CTRL.done, seen);
  Atomics.notify(i32, CTRL.done);
}
port.close();
