// Winograd accuracy on Fashion-MNIST: VGG-S on the full 10,000-image test set with its
// 3×3 convs on the direct path (winograd: 'off') and on F(2,3), F(4,3), F(6,3) and the
// cost model's picks; accuracy, and top-1 agreement with the direct path (must be ≥ 99.9%).
import type { WinogradMode } from '../../src/compile/plan_types.js';
import { loadDataset } from '../../src/data/datasets.js';
import { sessionAccuracy } from '../../src/eval/runners.js';
import { formatTable } from '../../src/report/table.js';
import { Session } from '../../src/runtime/session.js';
import { fixture, log, pct } from './common.js';

const MODES: WinogradMode[] = ['off', 2, 4, 6, 'auto'];

/** The conv kernels a plan at this batch uses, counted: `F(4,3)×4, im2col×1`. */
async function kernels(mode: WinogradMode, batch: number): Promise<string> {
  const s = await Session.create(fixture('vggs_fmnist_dense.onnx'), { winograd: mode, batch });
  const counts = new Map<string, number>();
  for (const st of s.plan.steps) if (st.kind === 'conv') counts.set(st.impl === 'winograd' ? `F(${st.tile},3)` : st.impl, (counts.get(st.impl === 'winograd' ? `F(${st.tile},3)` : st.impl) ?? 0) + 1);
  await s.dispose();
  return [...counts].map(([k, n]) => `${k}×${n}`).join(', ');
}

export async function winogradAccuracy(args: string[]): Promise<void> {
  const batch = Number(args[0] ?? 100), threads = Number(args[1] ?? 1);
  const g = fixture('vggs_fmnist_dense.onnx'), ds = loadDataset('fashion-mnist', 'test');
  const rows: string[][] = [];
  let direct: Uint8Array | undefined;
  for (const mode of MODES) {
    const r = await sessionAccuracy(g, ds, { winograd: mode, batch, threads });
    direct ??= r.predictions;
    let same = 0;
    for (let i = 0; i < r.count; i++) if (r.predictions[i] === direct[i]) same++;
    const agree = same / r.count;
    log(`winograd ${mode}: ${pct(r.accuracy)}, agreement ${pct(agree)} (${r.seconds.toFixed(1)} s)`);
    rows.push([String(mode), await kernels(mode, batch), pct(r.accuracy), `${same}/${r.count} (${pct(agree)})`, agree >= 0.999 ? 'yes' : 'NO', `${r.seconds.toFixed(1)} s`]);
  }
  console.log(`\nVGG-S on Fashion-MNIST (10,000 test images, batch ${batch}, ${threads} thread(s)): Winograd vs the direct path\n`);
  console.log(formatTable(['winograd', 'conv kernels', 'accuracy', 'top-1 agreement with off', '≥ 99.9%', 'time'], rows));
}
