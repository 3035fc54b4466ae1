// A worker's evaluations run on this thread, so the worker's own thread stays free to
// renew its job locks in Redis (a fine-tune blocks its thread for seconds to minutes;
// a lock not renewed would make the job look stalled and run twice). Problems are
// cached by id: the model is imported and the data sliced once per search.
import { parentPort } from 'node:worker_threads';
import { toGraph } from '../runtime/session.js';
import { evaluateCandidate, makeProblem, type Problem, type ProblemSpec } from './evaluate.js';
import { failedOutcome } from './queue.js';
import type { Candidate } from './space.js';

export type ThreadRequest =
  | { kind: 'problem'; id: string; model: Uint8Array; spec: ProblemSpec }
  | { kind: 'evaluate'; id: string; hash: string; candidate: Candidate };

const problems = new Map<string, Promise<Problem>>();

parentPort?.on('message', async (m: ThreadRequest) => {
  if (m.kind === 'problem') {
    if (!problems.has(m.id)) problems.set(m.id, makeProblem(toGraph(m.model), m.spec));
    return;
  }
  let problem: Problem;
  try {
    problem = await (problems.get(m.id) ?? Promise.reject(new Error(`problem ${m.id} was not sent to the evaluation thread`)));
  } catch (e) {
    // this worker cannot set the problem up (a dataset not installed here): the job is retried, maybe elsewhere
    parentPort!.postMessage({ hash: m.hash, error: `internal: ${(e as Error).message}` });
    return;
  }
  try {
    parentPort!.postMessage({ hash: m.hash, result: await evaluateCandidate(problem, m.candidate) });
  } catch (e) {
    parentPort!.postMessage(failedOutcome(m.hash, e));
  }
});
