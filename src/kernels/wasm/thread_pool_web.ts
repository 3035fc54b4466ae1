// The browser ThreadPool: Web Workers on the shared WebAssembly memory
// (thread_pool_atomics.ts drives them). The workers run the pool's worker loop
// (thread_worker.ts) from its source text in a Blob, so a bundle is one file with
// no worker script or .wasm to serve. Shared memory needs a cross-origin isolated
// page (COOP same-origin + COEP require-corp); runtime/session_web.ts checks that.
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import { AtomicsThreadPool } from './thread_pool_atomics.js';
import { PROTOCOL, type ModuleMessage, type Protocol, type WorkerInit } from './thread_protocol.js';
import { threadWorker } from './thread_worker.js';

/** The parts of the DOM's Worker used here (the project's lib has no DOM). */
interface WebWorker {
  postMessage(msg: unknown): void;
  terminate(): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string }) => void) | null;
}
type WorkerCtor = new (url: string, options?: { name?: string }) => WebWorker;

/** The worker's entry point, in the worker's global scope. Self-contained: it is sent as source text. */
function webWorkerMain(make: typeof threadWorker, K: Protocol): void {
  const scope = globalThis as unknown as { onmessage: ((e: { data: unknown }) => void) | null; postMessage(m: unknown): void; close(): void };
  scope.onmessage = (first) => {
    const w = make(first.data as WorkerInit, K, () => undefined);
    const serve = (): void => { if (w.serve() === 'exit') scope.close(); };
    // a register command returns to the event loop, which then delivers the module here
    scope.onmessage = (e) => { w.register(e.data as ModuleMessage); serve(); };
    scope.postMessage('ready');
    serve();
  };
}

/** The worker script: the worker loop and the entry point above, with the protocol's constants. */
export function workerSource(): string {
  return `"use strict";\n(${webWorkerMain.toString()})(${threadWorker.toString()}, ${JSON.stringify(PROTOCOL)});\n`;
}

/** Whether this thread may sleep in Atomics.wait (workers may; a browser's main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

export class WebThreadPool extends AtomicsThreadPool {
  private readonly workers: WebWorker[] = [];

  /** Starts threads - 1 workers and waits until each is ready (a worker only starts once the caller yields). */
  static async create(arena: WasmArena, threads: number): Promise<WebThreadPool> {
    const Ctor = (globalThis as unknown as { Worker?: WorkerCtor }).Worker;
    if (!Ctor) fail('thread pool: this environment has no Web Workers; use threads: 1');
    const pool = new WebThreadPool(arena, threads);
    const url = URL.createObjectURL(new Blob([workerSource()], { type: 'text/javascript' }));
    try {
      await Promise.all(Array.from({ length: threads - 1 }, (_, t) => pool.start(Ctor, url, t + 1)));
    } catch (e) {
      await pool.close();
      throw e;
    } finally {
      URL.revokeObjectURL(url);
    }
    return pool;
  }

  private constructor(arena: WasmArena, threads: number) {
    super(arena, threads, canBlock());
  }

  private start(Ctor: WorkerCtor, url: string, t: number): Promise<void> {
    const init = this.addWorker();
    const worker = new Ctor(url, { name: `nnzip thread ${t}` });
    this.workers.push(worker);
    return new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error(`thread pool: worker ${t} did not start (${e.message ?? 'blocked?'}); a Content-Security-Policy must allow blob: workers`));
      worker.onmessage = () => {
        worker.onmessage = null;
        worker.onerror = (e) => console.error(`nnzip thread ${t}:`, e.message);
        resolve();
      };
      worker.postMessage(init);
    });
  }

  protected postModule(t: number, msg: ModuleMessage): void {
    this.workers[t].postMessage(msg);
  }

  protected async stopWorker(t: number, sendExit: () => void): Promise<void> {
    sendExit();
    this.workers[t].terminate();
  }
}
