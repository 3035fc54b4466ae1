// Sparse convolution: per image and group, im2col (skipped for 1×1) then the CSR
// weights times the patch matrix, rows stored straight as NCHW output with the
// bias and clamp fused (helper-8's spmm); weights uploaded once, never densified.
// With threads, when the layer is big enough (sparse_split.ts): a batch is cut
// into chunks of images, or (one image, or a few that do not share out evenly)
// each image into bands of output rows, as the dense conv does. Each chunk or
// band has its own patch matrix, so no thread waits for another's im2col and no
// cache line of it is shared. Either way every output is the same sum as on one thread.
import { convSplitsImages, SLACK } from '../../compile/lower_layers.js';
import { isPointwise } from '../../ir/window.js';
import type { ConvStep } from '../../compile/plan_types.js';
import { convKernelCosts, type SparseConvLayer } from '../../kernels/wasm/sparse.js';
import { SPARSE_EXPORTS } from '../../kernels/wasm/sparse_codegen.js';
import { sparseParts, spmmCall } from '../../kernels/wasm/sparse_split.js';
import type { PoolCall } from '../../kernels/wasm/thread_pool.js';
import { CALL_WORDS } from '../../kernels/wasm/thread_protocol.js';
import { at, dynamicRunner, prepared, scratchAt, share, type BindEnv, type StepExecutor } from './env.js';
import { clampBounds, csrOf, sessionThreads } from './fc.js';

/** ns per value an im2col writes (0.22 measured on the reference machine: 32 channels, 20×20, 3×3). */
const IM2COL_NS = 0.25;

/** Chunks of a batch per thread: taken dynamically, so a late or preempted worker holds the others up for one small chunk. */
const CHUNKS_PER_THREAD = 4;

/** Patch matrices of all chunks together stay under this (more chunks are not worth the memory). */
const CHUNK_SCRATCH_BYTES = 16 << 20;

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

/** Words of a group's calls in a dynamic run: an im2col (2 + 15 words) and an spmm (2 + 13). */
function wordsPerGroup(geo: Geometry): number {
  return (geo.direct ? 0 : 17) + 15;
}

/** Estimated ns of one image on one thread: per group, the spmm and the im2col. */
function imageNs(geo: Geometry): number {
  const nnzPerGroup = Math.round(geo.layer.csr.nnz / geo.G); // an average is enough to decide
  const im2col = geo.direct ? 0 : IM2COL_NS * geo.K * geo.P;
  return geo.G * (convKernelCosts(geo.Mg, geo.K, nnzPerGroup, geo.P).csr + im2col);
}

/**
 * `count` patch matrices of `pixels` columns (none for a direct conv): the first in
 * the step's planned scratch (sized for one image's), the others allocated once per
 * step at bind time and kept (the same for the plans of every batch size).
 */
function patchSets(env: BindEnv, s: ConvStep, geo: Geometry, count: number, pixels: number): number[] {
  if (geo.direct) return new Array<number>(count).fill(0);
  const bytes = geo.K * pixels * 4 + SLACK, stride = Math.ceil(bytes / 64) * 64;
  const first = bytes <= s.scratch ? 1 : 0;
  const extra = count > first ? prepared(env, s, `patches ${count - first}×${stride}`, () => env.kernels.arena.alloc((count - first) * stride)) : 0;
  return Array.from({ length: count }, (_, i) => (i < first ? scratchAt(env, s) : extra + (i - first) * stride));
}

export function bindSparseConv(s: ConvStep, env: BindEnv): StepExecutor {
  const geo = prepare(s, env);
  // the planner leaves sparse steps unsplit: decided here, recorded so describe() shows it
  s.split = sparseParts(s.N * imageNs(geo), sessionThreads(env));
  const images = convSplitsImages(s); // as the dense conv: whole images when they share out evenly
  if (!images) s.split = Math.min(s.split, s.OH); // else bands of output rows, at most one per row
  const parts = s.split;
  if (parts > 1) return images ? byImages(s, env, geo, parts) : byBands(s, env, geo, parts);
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
function byImages(s: ConvStep, env: BindEnv, geo: Geometry, parts: number): StepExecutor {
  const perImage = geo.G * wordsPerGroup(geo);
  let most = Math.min(parts * CHUNKS_PER_THREAD, Math.floor(CALL_WORDS / (perImage + 1)));
  if (!geo.direct) most = Math.min(most, Math.max(parts, Math.floor(CHUNK_SCRATCH_BYTES / (geo.K * geo.P * 4))));
  if (most < 2) return byBands(s, env, geo, parts); // so many groups that two images' calls do not fit a run
  const cols = patchSets(env, s, geo, most, geo.P);
  const sets = Math.min(s.N, most);
  const perItem = Math.max(1, Math.min(Math.ceil(s.N / sets), Math.floor((Math.floor(CALL_WORDS / sets) - 1) / perImage)));
  const rounds = Math.ceil(s.N / (sets * perItem)), items = rounds * sets;
  const runs: PoolCall[][][] = [];
  for (let r = 0; r < rounds; r++) {
    const round: PoolCall[][] = [];
    for (let c = 0; c < sets; c++) {
      const [n0, n1] = share(s.N, items, r * sets + c);
      const calls: PoolCall[] = [];
      for (let n = n0; n < n1; n++) for (let g = 0; g < geo.G; g++) calls.push(...bandCalls(s, geo, n, g, 0, s.OH, cols[c]));
      if (calls.length) round.push(calls);
    }
    runs.push(round);
  }
  return { run: dynamicRunner(env.pool!, runs) };
}

/**
 * Each image cut into bands of output rows, one per thread (taken dynamically: a
 * worker that wakes late leaves its band to the caller), each band with its own
 * patch matrix; the groups of an image go in rounds when their calls do not fit one run.
 */
function byBands(s: ConvStep, env: BindEnv, geo: Geometry, parts: number): StepExecutor {
  const bands = Math.min(parts, s.OH);
  const cols = patchSets(env, s, geo, bands, Math.ceil(s.OH / bands) * s.OW);
  const groupsPerRound = Math.max(1, Math.floor((Math.floor(CALL_WORDS / bands) - 1) / wordsPerGroup(geo)));
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
