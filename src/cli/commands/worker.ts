import { startWorker } from '../../search/worker.js';
import { fail } from '../../ir/errors.js';
import { num, parse, str } from '../args.js';
import type { Command } from '../command.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'evaluate the candidates of `nnzip search --redis` (one per machine, or more)',
  usage: `usage: nnzip worker --redis URL [--lock-seconds S]

Takes candidate jobs from the search queue in Redis and evaluates them (the model
and the proxy's settings come from the coordinator; the dataset must be installed
here). Runs until stopped (Ctrl-C, SIGTERM); a job it was running then is run
again by another worker.

  --redis URL          redis://HOST:PORT of the coordinator's Redis
  --lock-seconds S     a job's lock, renewed while it runs: how soon the job of a
                       killed worker runs again elsewhere (default 30)`,
  async run(argv) {
    const p = parse('worker', argv, { redis: { type: 'string' }, 'lock-seconds': { type: 'string' } });
    if (p.positionals.length > 0) fail(`worker: unexpected argument ${p.positionals[0]}; see \`nnzip worker --help\``);
    const url = str(p, 'redis') ?? fail('worker: --redis URL is required');
    const lockMs = num(p, 'lock-seconds', 30, 0.5, 86400) * 1000;
    const w = await startWorker({ url, lockMs, log: (l) => console.log(l) });
    console.log(`worker ${process.pid} on ${url}`);
    const stop = () => void w.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await w.stopped;
    return 0;
  },
};
