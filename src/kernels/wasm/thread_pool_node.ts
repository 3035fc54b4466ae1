// The Node ThreadPool: worker_threads on the shared WebAssembly memory
// (thread_pool_atomics.ts drives them). Node-only: import it from Node entry
// points (CLI, benchmarks, tests), never from browser-safe code.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { WasmArena } from './arena.js';
import { AtomicsThreadPool } from './thread_pool_atomics.js';
import type { ModuleMessage } from './thread_protocol.js';

export class NodeThreadPool extends AtomicsThreadPool {
  private readonly workers: { worker: Worker; port: MessagePort }[] = [];

  /** `threads` counts the caller: threads = 2 starts one worker. The arena must be shared. */
  constructor(arena: WasmArena, threads = 2) {
    super(arena, threads);
    const url = new URL('./thread_worker_node.js', import.meta.url);
    for (let t = 1; t < threads; t++) {
      const channel = new MessageChannel(); // carries compiled modules (register), read synchronously
      const worker = new Worker(url, { workerData: { ...this.addWorker(), port: channel.port2 }, transferList: [channel.port2] });
      worker.unref();
      this.workers.push({ worker, port: channel.port1 });
    }
  }

  protected postModule(t: number, msg: ModuleMessage): void {
    this.workers[t].port.postMessage(msg);
  }

  protected async stopWorker(t: number, sendExit: () => void): Promise<void> {
    const { worker, port } = this.workers[t];
    worker.ref(); // keep the event loop alive until the worker has gone
    const exited = new Promise((r) => worker.once('exit', r));
    sendExit();
    await exited;
    port.close();
  }
}
