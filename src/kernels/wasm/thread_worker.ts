// Worker thread of NodeThreadPool: instantiates registered kernel modules on the
// shared memory and runs commands from the control block until told to exit.
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

let seen = 0;
for (;;) {
  for (let spin = 0; Atomics.load(i32, CTRL.seq) === seen; spin++) {
    if (spin > SPIN) Atomics.wait(i32, CTRL.seq, seen);
  }
  seen = Atomics.load(i32, CTRL.seq);
  const fn = i32[CTRL.fn];
  if (fn === CTRL.cmdExit) break;
  try {
    if (fn === CTRL.cmdRegister) register();
    else fns[fn](...Array.from(f64.subarray(0, i32[CTRL.nargs])));
  } catch (e) {
    console.error('nnzip thread worker:', e);
    Atomics.store(i32, CTRL.error, 1);
  }
  Atomics.store(i32, CTRL.done, seen);
  Atomics.notify(i32, CTRL.done);
}
port.close();
