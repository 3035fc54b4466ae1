// Models as other tools leave them: a plain dense ONNX whose initializers hold
// zeros (PyTorch prune), a few distinct float32 values (k-means sharing,
// coremltools palettization, TF-MOT clustering) or integers times a scale (int8
// quantization, fixed point), made with nnzip's own passes and exported to ONNX.
import { compressibleLayers } from '../../src/compress/layers.js';
import { applyMask, magnitudeMask } from '../../src/compress/prune/magnitude.js';
import { kmeans1d } from '../../src/compress/share/kmeans.js';
import { codebookValues } from '../../src/format/codebook.js';
import type { Graph } from '../../src/ir/graph.js';
import { dequantizeValue, quantizeValue } from '../../src/ir/quant.js';
import { Tensor } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { fixture } from '../onnx/helpers.js';

export const model = (name: string): Graph => loadOnnxFile(fixture(name));

/** Changes each layer's weight (by friendly name) with fn; other layers stay as they are. */
function mapWeights(g: Graph, fn: (layer: string, w: Float32Array, shape: number[]) => Float32Array | undefined): Graph {
  const out = g.clone();
  for (const l of compressibleLayers(g)) {
    const t = g.initializers.get(l.weight)!;
    const w = fn(l.name, t.data as Float32Array, t.shape);
    if (w) out.initializers.set(l.weight, new Tensor('float32', t.shape, w));
  }
  return out;
}

/** Magnitude pruning to a density per layer (PyTorch's l1_unstructured leaves the same zeros). */
export function pruned(g: Graph, density: Record<string, number>): Graph {
  return mapWeights(g, (l, w) => (density[l] ? applyMask(w, magnitudeMask(w, density[l])) : undefined));
}

/** k-means weight sharing of the nonzero weights, float32 centroids, zeros kept (Han's P+Q as PyTorch scripts do it). */
export function shared(g: Graph, bits: number): Graph {
  return mapWeights(g, (_l, w) => {
    const km = kmeans1d(w, { bits, init: 'linear', seed: 1 });
    return codebookValues({ centroids: km.centroids, indices: km.assignments });
  });
}

export interface QuantizeLike {
  bits?: number;
  perChannel?: boolean;
  /** Scale and product in float64 (numpy scripts, nnzip's own fake quantization). */
  double?: boolean;
}

/**
 * Symmetric linear quantization as onnxruntime and PyTorch do it: scale = max|w| / qmax
 * in float32, per tensor or per output channel (axis 0), w' = f32(round(w / scale) · scale).
 */
export function quantizedWeights(w: Float32Array, shape: number[], o: QuantizeLike = {}): Float32Array {
  const qmax = 2 ** ((o.bits ?? 8) - 1) - 1;
  const channels = o.perChannel ? shape[0] : 1;
  const per = w.length / channels;
  const out = new Float32Array(w.length);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(w[i]));
    const scale = (o.double ? m / qmax : Math.fround(m / qmax)) || 1;
    for (let i = c * per; i < (c + 1) * per; i++) {
      const q = quantizeValue(w[i], scale, 0, -qmax, qmax);
      out[i] = o.double ? q * scale : dequantizeValue(q, scale, 0);
    }
  }
  return out;
}

export function quantized(g: Graph, o: QuantizeLike = {}): Graph {
  return mapWeights(g, (_l, w, shape) => quantizedWeights(w, shape, o));
}

/** Fixed point Q.f: every weight a multiple of 2^−f. */
export function fixedPoint(g: Graph, f: number): Graph {
  return mapWeights(g, (_l, w) => Float32Array.from(w, (v) => Math.round(v * 2 ** f) / 2 ** f + 0));
}

/** The graph handed over as a plain dense ONNX file, read back as nnzip reads any model. */
export function viaOnnx(g: Graph): Graph {
  return importOnnx(exportOnnx(g), { source: 'foreign.onnx' });
}
