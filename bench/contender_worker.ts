// Worker entry of workerContender (harness.ts): makes the contender with the factory
// it is told, says ready (with its name and threads), then times it on request.
import { parentPort, workerData } from 'node:worker_threads';
import type { Contender } from './harness.js';

const { module, factory, args } = workerData as { module: string; factory: string; args: unknown[] };
const port = parentPort!;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

let made: Contender | undefined;
try {
  const make = (await import(module))[factory] as (...a: unknown[]) => Promise<Contender>;
  if (typeof make !== 'function') throw new Error(`${module} exports no function "${factory}"`);
  made = await make(...args);
  port.postMessage({ name: made.name, threads: made.threads });
} catch (e) {
  port.postMessage({ error: message(e) });
}

port.on('message', async (m: { calls: number }) => {
  try {
    port.postMessage({ ms: await made!.time(m.calls) });
  } catch (e) {
    port.postMessage({ error: message(e) });
  }
});
