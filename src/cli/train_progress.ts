// Training progress for the terminal: a bar per stage on a TTY, plain lines in CI.
import type { Progress as TrainProgress } from '../train/loop.js';
import { Progress } from './progress.js';

export function trainProgress(): { update: (stage: string, p: TrainProgress) => void; done: () => void } {
  let bar: Progress | undefined;
  let key = '';
  return {
    update(stage, p) {
      const k = `${stage} epoch ${p.epoch}/${p.epochs}`;
      if (k !== key) {
        bar?.done();
        bar = new Progress(k, p.steps);
        key = k;
      }
      const test = p.testAccuracy === undefined ? '' : ` test ${(100 * p.testAccuracy).toFixed(2)}%`;
      bar!.update(p.step, `loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}%${test} ${p.samplesPerSec.toFixed(0)}/s`);
    },
    done() {
      bar?.done();
    },
  };
}
