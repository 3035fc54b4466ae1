// Sparse convolution: per image and group, im2col (skipped for 1×1) then the CSR
// weights times the patch matrix, rows stored straight as NCHW output with the
// bias and clamp fused (the spmm kernel); weights uploaded once, never densified.
// With threads (the split the planner chose, compile/conv_layout.ts): a batch is
// cut into chunks of images, or (one image, or a few that do not share out evenly)
// each image into bands of output rows, as the dense conv does. Each chunk or
// band has its own patch matrix, so no thread waits for another's im2col and no
// cache line of it is shared. Either way every output is the same sum as on one thread.
import { sparseWordsPerGroup } from '../../compile/conv_layout.js';
import { isPointwise } from '../../ir/window.js';
import type { ConvStep } from '../../compile/plan_types.js';
import type { SparseConvLayer } from '../../kernels/wasm/sparse.js';
import { SPARSE_EXPORTS } from '../../kernels/wasm/sparse_codegen.js';
import { spmmCall } from '../../kernels/wasm/sparse_split.js';
import { share, type PoolCall } from '../../kernels/wasm/thread_pool.js';
import { CALL_WORDS } from '../../kernels/wasm/thread_protocol.js';
import { at, dynamicRunner, imageChunkRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { clampBounds, csrOf, sessionThreads } from './fc.js';

interface Geometry {
  layer: SparseConvLayer; x: number; y: number; G: number; Cg: number; Mg: number; K: number; P: number; HW: number;
  direct: boolean; clampAt: number;
}

function prepare(s: ConvStep, env: BindEnv): Geometry {
  const k = env.kernels, win = s.win, G = s.group;
  const Cg = s.C / G, Mg = s.M / G, K = Cg * win.kh * win.kw;
  const layer: SparseConvLayer = prepared(env, s, 'csr', () => k.sparse.prepareConv(
    csrOf(s.weight, s.M, K, `node "${s.name}": weight "${s.weight.name}"`),
    {
      C: s.C, M: s.M, group: G, kh: win.kh, kw: win.kw, pads: [win.padT, win.padL, win.padB, win.padR],
      strides: [win.sh, win.sw], dilations: [win.dh, win.dw],
    },
    { bias: s.bias }));
  const clampAt = clampBounds(env, s, true);
  return {
    layer, x: at(env, s.inputs[0]), y: at(env, s.outputs[0]), G, Cg, Mg, K, P: s.OH * s.OW, HW: s.H * s.W, direct: isPointwise(win), clampAt,
  };
}

/**
 * Output rows [r0, r1) of group g of image n: the im2col of the input rows they
 * read into col (a band's window starts r0·sh rows down: a smaller, possibly
 * negative, top pad), then its spmm; a direct (1×1) conv reads the input's pixels.
 */
function bandCalls(s: ConvStep, geo: Geometry, n: number, g: number, r0: number, r1: number, col: number): PoolCall[] {
  const w = s.win, xg = geo.x + (n * s.C + g * geo.Cg) * geo.HW * 4, width = (r1 - r0) * s.OW, j0 = r0 * s.OW;
  const spmm = spmmCall(geo.layer.csr, g * geo.Mg, (g + 1) * geo.Mg, {
    b: geo.direct ? xg + j0 * 4 : col, ldb: geo.direct ? geo.P : width, c: geo.y + (n * s.outImageStride + j0) * 4, ldc: geo.P,
    bias: geo.layer.bias, width, transposed: false, clampAt: geo.clampAt,
  });
  if (geo.direct) return [spmm];
  const args = [xg, geo.Cg, s.H, s.W, w.kh, w.kw, r1 - r0, s.OW, w.sh, w.sw, w.dh, w.dw, w.padT - r0 * w.sh, w.padL, col];
  return [{ key: geo.layer.csr.key, fn: SPARSE_EXPORTS.im2col, args }, spmm];
}

/** The patch matrix of each chunk or band: the layout's sets, back to back in the step's scratch (none for a 1×1 conv). */
function patchSets(env: BindEnv, s: ConvStep): number[] {
  return Array.from({ length: s.layout.sets }, (_, i) => scratchAt(env, s) + i * s.layout.patches);
}

export function bindSparseConv(s: ConvStep, env: BindEnv): StepExecutor {
  const geo = prepare(s, env);
  if (s.split > 1 && sessionThreads(env) > 1) return s.layout.byImages ? byImages(s, env, geo) : byBands(s, env, geo);
  const col = scratchAt(env, s), w = geo.layer.csr, e = w.exports, win = s.win;
  const { x, y, G, Cg, Mg, P, HW, direct, clampAt } = geo, bias = geo.layer.bias;
  const { N, C, H, W, OH, OW } = s, os = s.outImageStride;
  return {
    run: () => {
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < G; g++) {
          const xg = x + (n * C + g * Cg) * HW * 4;
          if (!direct) e.im2col(xg, Cg, H, W, win.kh, win.kw, OH, OW, win.sh, win.sw, win.dh, win.dw, win.padT, win.padL, col);
          e.spmm(w.rowPtr + g * Mg * 4, w.colIdx, w.vals, w.table, direct ? xg : col, P, y + (n * os + g * Mg * P) * 4, P,
            bias && bias + g * Mg * 4, Mg, P, 0, clampAt);
        }
      }
    },
  };
}

/**
 * Chunks of consecutive images taken dynamically by the threads, each chunk with
 * its own patch matrix. A batch whose calls do not fit one dynamic run goes in
 * rounds; within a round every chunk has its own patch matrix.
 */
function byImages(s: ConvStep, env: BindEnv, geo: Geometry): StepExecutor {
  const cols = patchSets(env, s);
  return {
    run: imageChunkRunner(env.pool!, s.N, cols.length, (n0, n1, c) => {
      const calls: PoolCall[] = [];
      for (let n = n0; n < n1; n++) for (let g = 0; g < geo.G; g++) calls.push(...bandCalls(s, geo, n, g, 0, s.OH, cols[c]));
      return calls;
    }),
  };
}

/**
 * Each image cut into bands of output rows, one per thread (taken dynamically: a
 * worker that wakes late leaves its band to the caller), each band with its own
 * patch matrix; the groups of an image go in rounds when their calls do not fit one run.
 */
function byBands(s: ConvStep, env: BindEnv, geo: Geometry): StepExecutor {
  const cols = patchSets(env, s), bands = cols.length;
  const groupsPerRound = Math.max(1, Math.floor((Math.floor(CALL_WORDS / bands) - 1) / sparseWordsPerGroup(s)));
  const runs: PoolCall[][][] = [];
  for (let n = 0; n < s.N; n++) {
    for (let g0 = 0; g0 < geo.G; g0 += groupsPerRound) {
      runs.push(Array.from({ length: bands }, (_, t) => {
        const [r0, r1] = share(s.OH, bands, t);
        const calls: PoolCall[] = [];
        for (let g = g0; g < Math.min(geo.G, g0 + groupsPerRound); g++) calls.push(...bandCalls(s, geo, n, g, r0, r1, cols[t]));
        return calls;
      }));
    }
  }
  return { run: dynamicRunner(env.pool!, runs) };
}
