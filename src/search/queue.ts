// Where candidates are evaluated: one interface, two queues — this process
// (InProcessQueue) or workers on any machines through BullMQ on Redis (bullmq_queue.ts).
import { NnzipError } from '../ir/errors.js';
import { evaluateCandidate, type Evaluation, type Problem } from './evaluate.js';
import type { Candidate } from './space.js';

export interface Job {
  hash: string;
  candidate: Candidate;
}

/** A job's outcome: its measured result, or why it failed (after the queue's retries). */
export type Outcome = { hash: string; result: Evaluation } | { hash: string; error: string };

export interface CandidateQueue {
  /** Evaluates each job once; `done` is called as each finishes, in any order; resolves when all have. */
  evaluate(jobs: Job[], done: (o: Outcome) => void): Promise<void>;
  close(): Promise<void>;
}

/** A failed evaluation as an outcome: bad input (a recipe the pipeline refuses) fails the candidate, not the search. */
export function failedOutcome(hash: string, e: unknown): Outcome {
  if (e instanceof NnzipError) return { hash, error: e.message };
  return { hash, error: `internal: ${(e as Error)?.message ?? String(e)}` };
}

/** Evaluates the jobs one after another in this process. */
export class InProcessQueue implements CandidateQueue {
  constructor(private readonly problem: Problem) {}

  async evaluate(jobs: Job[], done: (o: Outcome) => void): Promise<void> {
    for (const j of jobs) {
      try {
        done({ hash: j.hash, result: await evaluateCandidate(this.problem, j.candidate) });
      } catch (e) {
        done(failedOutcome(j.hash, e));
      }
    }
  }

  async close(): Promise<void> {}
}
