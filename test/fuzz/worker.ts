// The fuzz worker: runs cases [from, to) of one format and posts each outcome. The
// driver (run.ts) watches shared[0] (the case being run) for hangs and samples memory.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { caseBytes, nthCase, runCase, type Format, type Outcome } from './cases.js';
import { makeSeeds } from './seeds.js';

export interface WorkerData {
  fuzz: true;
  format: Format;
  runSeed: number;
  from: number;
  to: number;
  /** [0] = the case being run; [1] = 1 while nnzip works on it (0 while the mutator builds it). */
  shared: Int32Array;
}

export interface CaseReport {
  index: number;
  outcome: Outcome | { kind: 'harness-error'; error: string; bytes: number };
  ms: number;
}

async function work(d: WorkerData): Promise<void> {
  const seeds = await makeSeeds();
  parentPort!.postMessage({ ready: true });
  for (let index = d.from; index < d.to; index++) {
    Atomics.store(d.shared, 1, 0);
    Atomics.store(d.shared, 0, index);
    const t0 = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = caseBytes(d.format, seeds, nthCase(d.format, seeds, d.runSeed, index));
    } catch (e) {
      parentPort!.postMessage({ index, outcome: { kind: 'harness-error', error: String((e as Error).stack), bytes: 0 }, ms: 0 } satisfies CaseReport);
      continue;
    }
    Atomics.store(d.shared, 1, 1);
    const outcome = await runCase(d.format, bytes);
    delete outcome.stack; // the driver replays a case for its stack
    parentPort!.postMessage({ index, outcome, ms: performance.now() - t0 } satisfies CaseReport);
  }
  Atomics.store(d.shared, 0, d.to);
}

if (!isMainThread && (workerData as WorkerData | undefined)?.fuzz) await work(workerData as WorkerData);
