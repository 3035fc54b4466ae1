// Candidates as BullMQ jobs on Redis: the coordinator (`nnzip search --redis`) adds a
// generation's candidates, keyed by problem and candidate hash (adding a job that
// exists is a no-op, so nothing is evaluated twice), and collects each result as it
// completes. `bullmq` is an optional package, imported only here.
import type * as BullMQ from 'bullmq';
import { fail } from '../ir/errors.js';
import { importOptional } from '../ir/optional.js';
import type { ProblemSpec } from './evaluate.js';
import type { CandidateQueue, Job, Outcome } from './queue.js';
import { checkRedis, NNZIP_VERSION, parseRedisUrl, problemKey, QUEUE_NAME, VERSION_KEY, type RedisAddress } from './redis.js';
import type { Candidate } from './space.js';

export type BullMQModule = typeof BullMQ;

/** What a job carries: the problem is fetched once per worker by its id; the candidate is small. */
export interface JobData {
  problemId: string;
  hash: string;
  candidate: Candidate;
  version: string;
}

export function loadBullmq(purpose: string): Promise<BullMQModule> {
  return importOptional<BullMQModule>('bullmq', purpose);
}

/** BullMQ's connection options for an address (no retry limit per command: BullMQ's workers require it). */
export function connection(a: RedisAddress): BullMQ.ConnectionOptions {
  return { host: a.host, port: a.port, db: a.db, username: a.username, password: a.password, maxRetriesPerRequest: null };
}

/** A Redis command's answer, or an error when none comes (a server gone mid-search). */
export function within<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`Redis gave no answer within ${ms / 1000} s`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const jobId = (problemId: string, hash: string) => `${problemId}-${hash}`;

export interface BullmqQueueOptions {
  url: string;
  problemId: string;
  model: Uint8Array;
  spec: ProblemSpec;
  /** Attempts per job before it counts as failed (a crash, an internal error). */
  attempts?: number;
  pollMs?: number;
  /** Said after "Redis is unreachable" (where the search state is kept). */
  whenUnreachable: string;
}

export class BullmqQueue implements CandidateQueue {
  private constructor(
    private readonly queue: BullMQ.Queue,
    private readonly o: BullmqQueueOptions,
  ) {}

  /** Connects, publishes the problem and the version workers must run. */
  static async open(o: BullmqQueueOptions): Promise<BullmqQueue> {
    const address = parseRedisUrl(o.url);
    const { Queue } = await loadBullmq('nnzip search --redis');
    await checkRedis(address, o.url, o.whenUnreachable);
    const queue = new Queue(QUEUE_NAME, { connection: connection(address) });
    queue.on('error', () => {}); // the next command fails with the reason; ioredis would print each retry
    const client = await queue.client;
    await client.set(VERSION_KEY, NNZIP_VERSION);
    await client.set(problemKey(o.problemId), JSON.stringify({ spec: o.spec, model: Buffer.from(o.model).toString('base64') }));
    return new BullmqQueue(queue, o);
  }

  async evaluate(jobs: Job[], done: (o: Outcome) => void): Promise<void> {
    const pending = new Map(jobs.map((j) => [jobId(this.o.problemId, j.hash), j]));
    try {
      for (const [id, j] of pending) {
        const data: JobData = { problemId: this.o.problemId, hash: j.hash, candidate: j.candidate, version: NNZIP_VERSION };
        await this.queue.add('candidate', data, { jobId: id, attempts: this.o.attempts ?? 3, backoff: { type: 'fixed', delay: 500 } });
      }
      while (pending.size > 0) {
        for (const [id, j] of pending) {
          const state = await within(this.queue.getJobState(id));
          // read the job after its state: a job read before it completed has no return value yet
          const job = state === 'completed' || state === 'failed' ? await within(this.queue.getJob(id)) : undefined;
          if (state === 'completed' && job?.returnvalue) done(job.returnvalue as Outcome);
          else if (state === 'failed' && job) done({ hash: j.hash, error: job.failedReason || 'failed' });
          else if (state === 'unknown') {
            await this.queue.add('candidate', { problemId: this.o.problemId, hash: j.hash, candidate: j.candidate, version: NNZIP_VERSION }, { jobId: id, attempts: this.o.attempts ?? 3 });
            continue;
          } else continue;
          pending.delete(id);
        }
        if (pending.size > 0) await new Promise((r) => setTimeout(r, this.o.pollMs ?? 200));
      }
    } catch (e) {
      fail(`--redis ${this.o.url}: ${(e as Error).message}; ${this.o.whenUnreachable}`);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** A worker's outcome as the job's return value: results are returned, internal failures thrown (BullMQ retries them). */
export function jobResult(o: Outcome): Outcome {
  if ('error' in o && o.error.startsWith('internal:')) throw new Error(o.error);
  return o;
}
