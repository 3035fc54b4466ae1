// `nnzip worker --redis URL`: takes candidate jobs from the BullMQ queue and evaluates
// them on a thread of its own (eval_thread.ts) while this thread renews the job's lock.
// A worker killed mid-job stops renewing it; after `lockMs` BullMQ's stalled-job check
// (run by the other workers) puts the job back in the queue and another worker runs it.
import { Worker as Thread } from 'node:worker_threads';
import { fail } from '../ir/errors.js';
import { connection, jobResult, loadBullmq, type JobData } from './bullmq_queue.js';
import type { ThreadRequest } from './eval_thread.js';
import type { ProblemSpec } from './evaluate.js';
import type { Outcome } from './queue.js';
import { checkRedis, NNZIP_VERSION, parseRedisUrl, problemKey, QUEUE_NAME, VERSION_KEY } from './redis.js';

export interface WorkerOptions {
  url: string;
  /** How long a job's lock lasts unrenewed: how soon the job of a killed worker runs again (default 30 s). */
  lockMs?: number;
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** Resolves when the worker has stopped (stop() or a refused job). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/** The evaluation thread, one request at a time. */
function evaluationThread(): { send(m: ThreadRequest): void; evaluate(m: ThreadRequest & { kind: 'evaluate' }): Promise<Outcome>; close(): Promise<number> } {
  const thread = new Thread(new URL('./eval_thread.js', import.meta.url));
  const waiting = new Map<string, (o: Outcome) => void>();
  thread.on('message', (o: Outcome) => waiting.get(o.hash)?.(o));
  thread.on('error', (e: Error) => { for (const [hash, resolve] of waiting) resolve({ hash, error: `internal: evaluation thread: ${e.message}` }); });
  return {
    send: (m) => thread.postMessage(m),
    evaluate: (m) => new Promise<Outcome>((resolve) => {
      waiting.set(m.hash, (o) => { waiting.delete(m.hash); resolve(o); });
      thread.postMessage(m);
    }),
    close: () => thread.terminate(),
  };
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const address = parseRedisUrl(o.url);
  const bullmq = await loadBullmq('nnzip worker');
  await checkRedis(address, o.url, 'start Redis, or give the URL the coordinator (nnzip search --redis) uses');
  const log = o.log ?? (() => {});
  const store = new bullmq.Queue(QUEUE_NAME, { connection: connection(address) });
  store.on('error', () => {});
  const client = await store.client;
  const theirs = await client.get(VERSION_KEY);
  if (theirs && theirs !== NNZIP_VERSION) {
    await store.close();
    fail(`worker: the search on ${o.url} runs nnzip ${theirs} and this worker nnzip ${NNZIP_VERSION}; install nnzip ${theirs} here (results must come from the same code)`);
  }
  const thread = evaluationThread();
  const loaded = new Set<string>();
  let refuse: ((why: string) => void) | undefined;
  const refused = new Promise<string>((r) => (refuse = r));
  const processor = async (job: { id?: string; data: JobData; attemptsMade: number }): Promise<Outcome> => {
    const d = job.data;
    if (d.version !== NNZIP_VERSION) {
      refuse!(`worker: job ${job.id} comes from nnzip ${d.version} and this worker is nnzip ${NNZIP_VERSION}; refused (install the same version)`);
      throw new Error(`worker on nnzip ${NNZIP_VERSION} refused a job of nnzip ${d.version}`);
    }
    if (!loaded.has(d.problemId)) {
      const doc = await client.get(problemKey(d.problemId));
      if (!doc) throw new Error(`problem ${d.problemId} is not in Redis (the coordinator publishes it first)`);
      const { spec, model } = JSON.parse(doc) as { spec: ProblemSpec; model: string };
      thread.send({ kind: 'problem', id: d.problemId, spec, model: new Uint8Array(Buffer.from(model, 'base64')) });
      loaded.add(d.problemId);
    }
    log(`job ${job.id} started (attempt ${job.attemptsMade + 1})`);
    const out = await thread.evaluate({ kind: 'evaluate', id: d.problemId, hash: d.hash, candidate: d.candidate });
    log(`job ${job.id} ${'result' in out ? 'done' : `failed: ${out.error}`}`);
    return jobResult(out);
  };
  const lockMs = o.lockMs ?? 30_000;
  const worker = new bullmq.Worker<JobData, Outcome>(QUEUE_NAME, processor, {
    connection: connection(address), concurrency: 1, lockDuration: lockMs, stalledInterval: Math.max(500, lockMs / 2), maxStalledCount: 3,
  });
  worker.on('error', (e) => log(`redis: ${e.message}`));
  let closing: Promise<void> | undefined;
  const stop = () => (closing ??= (async () => {
    await worker.close();
    await store.close();
    await thread.close();
  })());
  const stopped = refused.then(async (why) => {
    await stop();
    fail(why);
  });
  return { stop, stopped: Promise.race([stopped, new Promise<void>((r) => void worker.once('closed', () => r()))]) };
}
