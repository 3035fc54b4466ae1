// Which layer broke accuracy: each quantized layer's output in the quantized
// model (dequantized) against the float model's, on calibration images — the
// signal-to-quantization-noise ratio SQNR = 10·log10(Σx² / Σ(x − x̂)²) and the
// cosine of the two — sorted worst first. Errors accumulate along the network,
// so a layer's row is the damage up to its output.
import { BATCH, tapSession, type CalibrationSet } from './calibrate.js';
import type { PtqResult } from './ptq.js';

export interface LayerError {
  layer: string;
  tensor: string;
  dtype: string;
  scale: number;
  /** dB; Infinity when the outputs are equal. */
  sqnr: number;
  cosine: number;
}

/** Images the report runs (the first of the calibration set). */
export const REPORT_IMAGES = 200;

export function layerErrors(r: PtqResult, set: CalibrationSet, images = REPORT_IMAGES): LayerError[] {
  const rows = r.layers.filter((l) => r.dequantized.has(l.output));
  const floatNames = rows.map((l) => l.output), quantNames = rows.map((l) => r.dequantized.get(l.output)!);
  const count = Math.min(images, set.count), batch = Math.min(BATCH, count);
  const [a, b] = [tapSession(r.float, floatNames, batch), tapSession(r.graph, quantNames, batch)];
  const sums = rows.map(() => ({ xx: 0, ee: 0, xy: 0, yy: 0 }));
  try {
    for (let s = 0; s < count; s += batch) {
      const n = Math.min(batch, count - s);
      const [fa, fb] = [a.run(set, s, n), b.run(set, s, n)];
      rows.forEach((_, i) => {
        const x = fa[floatNames[i]], y = fb[quantNames[i]], acc = sums[i];
        for (let j = 0; j < x.length; j++) {
          const d = x[j] - y[j];
          acc.xx += x[j] * x[j];
          acc.ee += d * d;
          acc.xy += x[j] * y[j];
          acc.yy += y[j] * y[j];
        }
      });
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  return rows.map((l, i) => {
    const { xx, ee, xy, yy } = sums[i], p = r.tensors.get(l.output)!;
    return {
      layer: l.layer.name, tensor: l.output, dtype: p.dtype, scale: p.scale,
      sqnr: ee === 0 ? Infinity : 10 * Math.log10(xx / ee), cosine: xx && yy ? xy / Math.sqrt(xx * yy) : 1,
    };
  }).sort((p, q) => p.sqnr - q.sqnr);
}
