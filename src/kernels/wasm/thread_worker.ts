// Worker thread of NodeThreadPool: instantiates registered kernel modules on the
// shared memory and runs the calls of each command until told to exit.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { CTRL, SPIN } from './thread_protocol.js';
import { WA, type WasmMemory, type WasmModule } from './wasm_api.js';

const { memory, control, port } = workerData as { memory: WasmMemory; control: SharedArrayBuffer; port: MessagePort };
const i32 = new Int32Array(control, 0, CTRL.words);
const f64 = new Float64Array(control, CTRL.words * 4);
const fns: ((...args: number[]) => void)[] = [];

function register(): void {
  const msg = receiveMessageOnPort(port);
  if (!msg) throw new Error('thread worker: register command without a module');
  const { module, names, ids } = msg.message as { module: WasmModule; names: string[]; ids: number[] };
  const inst = new WA.Instance(module, { env: { memory } });
  names.forEach((n, k) => { fns[ids[k]] = inst.exports[n] as (...args: number[]) => void; });
}

function runCalls(count: number): void {
  let at = 0;
  for (let c = 0; c < count; c++) {
    const fn = f64[at], n = f64[at + 1];
    fns[fn](...Array.from(f64.subarray(at + 2, at + 2 + n)));
    at += 2 + n;
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
    else runCalls(calls);
  } catch (e) {
    console.error('nnzip thread worker:', e);
    Atomics.store(i32, CTRL.error, 1);
  }
  Atomics.store(i32, CTRL.done, seen);
  Atomics.notify(i32, CTRL.done);
}
port.close();
