// Code generation for the f32 GEMM: pack routines, an MR×NR register-tiled
// micro-kernel (f32x4 SIMD, A broadcast × B vectors, outer-product form as in
// XNNPACK/BLIS), and a driver that walks the tiles with generic edges.
//
// Packed layouts (both zero-padded to whole panels):
//   A: panels of MR rows,    panel p at pa + p*K*MR*4, element (i,k) at [k*MR + i]
//   B: panels of NR columns, panel p at pb + p*K*NR*4, element (k,j) at [k*NR + j]
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128, type ValType } from './opcodes.js';

export interface GemmVariant {
  /** Rows of the register tile. */
  mr: number;
  /** Columns of the register tile (a multiple of 4). */
  nr: number;
  /** K-loop unroll factor (1 is best on V8: it hoists all loads of an unrolled body and spills). */
  unroll: number;
  /** Use f32x4.relaxed_madd (fused) instead of f32x4.mul + f32x4.add. */
  fma: boolean;
  /** Depth of a K block: a B panel (kc×NR) stays in L1. */
  kc: number;
  /** Rows of an M block (a multiple of mr): the packed A block (mc×kc) stays in L2. */
  mc: number;
  /** Import a shared memory (for worker threads). */
  shared: boolean;
}

/** Scratch bytes per thread: an edge tile, its bias, the clamp bounds. */
export function gemmScratchBytes(v: Pick<GemmVariant, 'mr' | 'nr'>): number {
  return clampOffset(v) + 16;
}

function clampOffset(v: Pick<GemmVariant, 'mr' | 'nr'>): number {
  return (v.mr * v.nr + Math.max(v.mr, v.nr)) * 4;
}

/** Bias modes of the micro-kernel epilogue. */
export const BIAS = { none: 0, col: 1, row: 2 } as const;

/** Exported function names and their parameters (all i32 byte offsets/counts unless noted). */
export const GEMM_EXPORTS = {
  /** (a, lda, iContiguous, M, K, dst) */
  packA: 'packA',
  /** (b, ldb, iContiguous, N, K, dst) */
  packB: 'packB',
  /** (pa, pb, c, ldc, M, N, K, bias, biasMode, accumulate, clamp, lo: f32, hi: f32, scratch) */
  gemm: 'gemm',
  /** gemm's parameters, then (count, strideA, strideB, strideC): `count` GEMMs at offsets + i·stride (bytes), one call. */
  gemmStrided: 'gemmStrided',
} as const;

const KERNEL_PARAMS: ValType[] = [I32, I32, I32, I32, I32, I32, I32, I32, I32];

/** A micro-kernel over several B panels (emitMicroKernel's `panels`) and its function index. */
interface Wide { panels: number; fn: number }

/**
 * B panels per tile for `rows` rows: the most that keep at most 8 accumulator chains (the two
 * multiply-add pipes × a latency of 4) and the tile, its B vectors and the A splat in 15 registers.
 */
export function widePanels(v: Pick<GemmVariant, 'nr'>, rows: number): number {
  const pv = v.nr / 4;
  let p = 1;
  while ((p + 1) * pv * rows <= 8 && (p + 1) * pv * (rows + 1) + 1 <= 15) p++;
  return p;
}

export function gemmModule(v: GemmVariant): Uint8Array {
  if (v.nr % 4 !== 0 || v.mr < 1 || v.unroll < 1 || v.kc < 1 || v.mc < v.mr || v.mc % v.mr !== 0) {
    throw new Error(`gemm variant ${JSON.stringify(v)} is invalid`);
  }
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  m.func(GEMM_EXPORTS.packA, [I32, I32, I32, I32, I32, I32], [], (f) => emitPack(f, v.mr));
  m.func(GEMM_EXPORTS.packB, [I32, I32, I32, I32, I32, I32], [], (f) => emitPack(f, v.nr));
  // kernels[r] computes r rows (r = 1..mr): the last rows of C need no padded tile
  const kernels: number[] = [];
  for (let r = 1; r <= v.mr; r++) kernels[r] = m.func(undefined, KERNEL_PARAMS, [], (f) => emitMicroKernel(f, v, r));
  // wide[r]: r rows × widePanels(v, r) panels, for a GEMM of r < MR rows (absent where one panel is as wide)
  const wide: Wide[] = [];
  for (let r = 1; r < v.mr; r++) {
    const panels = widePanels(v, r);
    if (panels > 1) wide[r] = { panels, fn: m.func(undefined, [...KERNEL_PARAMS, I32], [], (f) => emitMicroKernel(f, v, r, panels)) };
  }
  const edge = m.func(undefined, [...KERNEL_PARAMS, I32, I32, I32], [], (f) => emitEdgeTile(f, v, kernels));
  const driverParams: ValType[] = [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, I32];
  const driver = m.func(GEMM_EXPORTS.gemm, driverParams, [], (f) => emitDriver(f, v, kernels, edge, wide));
  m.func(GEMM_EXPORTS.gemmStrided, [...driverParams, I32, I32, I32, I32], [], (f) => emitStrided(f, driver));
  return m.build();
}

/** A batch of same-shape GEMMs whose A, B and C are a fixed stride apart (Winograd's α² products): one call from JS. */
function emitStrided(f: FuncBuilder, driver: number): void {
  const p = f.params, [pa, pb, c] = p, [count, sa, sb, sc] = p.slice(14);
  const i = f.local();
  f.forUp(i, 0, count, 1, () => {
    for (const q of p.slice(0, 14)) f.get(q);
    f.call(driver);
    f.addTo(pa, sa).addTo(pb, sb).addTo(c, sc);
  });
}

/**
 * Packs a logical matrix X (rows × depth) into panels of `r` rows, depth-major:
 * dst[(p*depth + k)*r + i] = X(p*r + i, k), zeros past the last row.
 * X(i, k) = src[i*ld + k], or src[k*ld + i] when `iContiguous` (then a panel row
 * of r values is contiguous in memory and copied with v128 loads).
 * A is packed with X = A (iContiguous = transA); B with X = Bᵀ (iContiguous = !transB).
 * Params: (src, ld, iContiguous, rows, depth, dst); ld in elements, offsets in bytes.
 */
function emitPack(f: FuncBuilder, r: number): void {
  const [src, ld, iCont, rows, depth, dst] = f.params;
  const p = f.local(), k = f.local(), i = f.local(), q = f.local(), si = f.local(), sk = f.local(), full = f.local();
  f.get(iCont).if(() => { f.i32(4).set(si).get(ld).i32(4).op('i32.mul').set(sk); },
    () => { f.get(ld).i32(4).op('i32.mul').set(si).i32(4).set(sk); });
  f.get(rows).get(rows).i32(r).op('i32.rem_u').op('i32.sub').set(full);
  // whole panels: r values per k, no bounds checks
  f.forUp(p, 0, full, r, () => {
    f.forUp(k, 0, depth, 1, () => {
      // q = src + p*si + k*sk
      f.get(src).get(p).get(si).op('i32.mul').op('i32.add').get(k).get(sk).op('i32.mul').op('i32.add').set(q);
      f.get(iCont).if(() => {
        const vecs = Math.floor(r / 4); // whole vectors, then single floats: never touch past the row
        for (let v = 0; v < vecs; v++) f.get(dst).get(q).mem('v128.load', 16 * v).mem('v128.store', 16 * v);
        for (let e = vecs * 4; e < r; e++) f.get(dst).get(q).mem('f32.load', 4 * e).mem('f32.store', 4 * e);
      }, () => {
        for (let e = 0; e < r; e++) {
          f.get(dst).get(q).mem('f32.load').mem('f32.store', 4 * e);
          if (e < r - 1) f.addTo(q, si);
        }
      });
      f.addTo(dst, r * 4);
    });
  });
  // the last, partial panel: rows past the end are zero
  f.get(full).get(rows).op('i32.lt_s').if(() => {
    f.forUp(k, 0, depth, 1, () => {
      f.forUp(i, 0, r, 1, () => {
        f.get(dst);
        f.get(full).get(i).op('i32.add').get(rows).op('i32.lt_s').if(() => {
          f.get(src).get(full).get(i).op('i32.add').get(si).op('i32.mul').op('i32.add').get(k).get(sk).op('i32.mul').op('i32.add');
          f.mem('f32.load');
        }, () => { f.f32(0); }, F32);
        f.mem('f32.store').addTo(dst, 4);
      });
    });
  });
}

/**
 * The rows×NR micro-kernel over one K block (rows ≤ MR; packed A keeps its MR stride).
 * Params: (pa, pb, kc, c, ldcBytes, bias, biasMode, accumulate, clampAt), and with
 * panels > 1 the bytes from one B panel to the next (K·NR·4).
 * C tile = [C tile if accumulate] + packedA·packedB + [bias], then clamped to
 * [lo, hi] read as two f32 at clampAt (0 = no clamp). The bounds come through
 * memory, not f32 params, so that they do not hold two of the 15 allocatable xmm
 * registers across the K loop. V8 schedules all loads of the loop body first,
 * so the tile must satisfy rows*NR/4 + NR/4 + rows ≤ 15 to stay spill-free.
 * `panels` B panels side by side (a rows×(panels·NR) tile, C's columns contiguous):
 * a tile of few rows has few independent accumulator chains (a 1×8 tile 2, each a
 * multiply-add's latency per k), so a GEMM of 1 or 2 rows (a batch-1 Gemm) takes
 * several panels a tile (widePanels) and each output still sums its k in order.
 */
function emitMicroKernel(f: FuncBuilder, v: GemmVariant, rows: number, panels = 1): void {
  const [pa, pb, kc, c, ldc, bias, biasMode, accumulate, clampAt, panelBytes] = f.params;
  const nv = (v.nr / 4) * panels, pv = v.nr / 4;
  const acc: Local[][] = [];
  for (let i = 0; i < rows; i++) acc.push(Array.from({ length: nv }, () => f.local(V128))); // zero-initialised
  const bv = Array.from({ length: nv }, () => f.local(V128));
  const a = f.local(V128), t = f.local(V128), end = f.local(), row = f.local();
  // panel q's pointer (q ≥ 1), stepping with pb
  const pbs = [pb, ...Array.from({ length: panels - 1 }, () => f.local())];
  for (let q = 1; q < panels; q++) f.get(pbs[q - 1]).get(panelBytes).op('i32.add').set(pbs[q]);

  const step = (u: number): void => {
    for (let j = 0; j < nv; j++) f.get(pbs[Math.floor(j / pv)]).mem('v128.load', (u * v.nr + 4 * (j % pv)) * 4).set(bv[j]);
    for (let i = 0; i < rows; i++) {
      f.get(pa).mem('v128.load32_splat', (u * v.mr + i) * 4).set(a);
      for (let j = 0; j < nv; j++) {
        if (v.fma) f.get(a).get(bv[j]).get(acc[i][j]).op('f32x4.relaxed_madd').set(acc[i][j]);
        else f.get(acc[i][j]).get(a).get(bv[j]).op('f32x4.mul').op('f32x4.add').set(acc[i][j]);
      }
    }
  };
  panelLoop(f, { pa, pb, end, count: kc, unroll: v.unroll, aStep: v.mr * 4, bStep: v.nr * 4, more: pbs.slice(1) }, step);

  const eachRow = (body: (i: number) => void): void => {
    f.get(c).set(row);
    for (let i = 0; i < rows; i++) {
      body(i);
      if (i < rows - 1) f.addTo(row, ldc);
    }
  };
  f.get(accumulate).if(() => eachRow((i) => {
    for (let j = 0; j < nv; j++) f.get(acc[i][j]).get(row).mem('v128.load', 16 * j).op('f32x4.add').set(acc[i][j]);
  }));
  f.get(biasMode).i32(BIAS.col).op('i32.eq').if(() => {
    for (let j = 0; j < nv; j++) {
      f.get(bias).mem('v128.load', 16 * j).set(t);
      for (let i = 0; i < rows; i++) f.get(acc[i][j]).get(t).op('f32x4.add').set(acc[i][j]);
    }
  });
  f.get(biasMode).i32(BIAS.row).op('i32.eq').if(() => {
    for (let i = 0; i < rows; i++) {
      f.get(bias).mem('v128.load32_splat', 4 * i).set(t);
      for (let j = 0; j < nv; j++) f.get(acc[i][j]).get(t).op('f32x4.add').set(acc[i][j]);
    }
  });
  f.get(clampAt).if(() => {
    f.get(clampAt).mem('v128.load32_splat', 0).set(a).get(clampAt).mem('v128.load32_splat', 4).set(t);
    for (const r of acc) for (const x of r) f.get(x).clampTo(a, t).set(x);
  });
  eachRow((i) => {
    for (let j = 0; j < nv; j++) f.get(row).get(acc[i][j]).mem('v128.store', 16 * j);
  });
}

/**
 * The K loop of a micro-kernel over packed panels: `count` steps of `step(u)`
 * (u = the step's index within an unrolled iteration), pa and pb (and the `more`
 * B pointers) advancing by aStep / bStep bytes per step; with unroll > 1, whole groups then the remainder.
 */
export function panelLoop(f: FuncBuilder, l: { pa: Local; pb: Local; end: Local; count: Local; unroll: number; aStep: number; bStep: number; more?: Local[] },
  step: (u: number) => void): void {
  const loop = (count: () => void, u: number): void => {
    // end = pb + count·bStep; while (pb < end) { u steps }
    f.get(l.pb); count(); f.i32(l.bStep).op('i32.mul').op('i32.add').set(l.end);
    f.get(l.pb).get(l.end).op('i32.lt_u').if(() => {
      f.loop((top) => {
        for (let s = 0; s < u; s++) step(s);
        f.addTo(l.pa, u * l.aStep).addTo(l.pb, u * l.bStep);
        for (const p of l.more ?? []) f.addTo(p, u * l.bStep);
        f.get(l.pb).get(l.end).op('i32.lt_u').brIf(top);
      });
    });
  };
  if (l.unroll > 1) {
    loop(() => f.get(l.count).get(l.count).i32(l.unroll).op('i32.rem_u').op('i32.sub'), l.unroll);
    loop(() => f.get(l.count).i32(l.unroll).op('i32.rem_u'), 1);
  } else {
    loop(() => f.get(l.count), 1);
  }
}

/** Calls kernels[rows] for a run-time row count 1..MR (an if-chain generated from the table). */
function callKernelRows(f: FuncBuilder, kernels: number[], rows: Local, pushArgs: () => void): void {
  const mr = kernels.length - 1;
  const chain = (r: number): void => {
    if (r === mr) { pushArgs(); f.call(kernels[r]); return; }
    f.get(rows).i32(r).op('i32.eq').if(() => { pushArgs(); f.call(kernels[r]); }, () => chain(r + 1));
  };
  chain(1);
}

/**
 * A tile cut by the right edge of C (nrValid < NR): the kernel for mrValid rows
 * runs on a scratch tile, and only the valid columns are copied in and out.
 * Params: (pa, pb, kc, c, ldcBytes, bias, biasMode, accumulate, clampAt, mrValid, nrValid, scratch).
 */
function emitEdgeTile(f: FuncBuilder, v: GemmVariant, kernels: number[]): void {
  const [pa, pb, kc, c, ldc, bias, biasMode, accumulate, clampAt, mrValid, nrValid, scratch] = f.params;
  const i = f.local(), tileBias = f.local(), rowBytes = f.local();
  const tileBytes = v.mr * v.nr * 4;
  f.get(scratch).i32(tileBytes).op('i32.add').set(tileBias);
  f.get(nrValid).i32(4).op('i32.mul').set(rowBytes);
  f.get(scratch).i32(0).i32(tileBytes + Math.max(v.mr, v.nr) * 4).memoryFill();
  f.get(accumulate).if(() => {
    f.forUp(i, 0, mrValid, 1, () => {
      f.get(scratch).get(i).i32(v.nr * 4).op('i32.mul').op('i32.add');
      f.get(c).get(i).get(ldc).op('i32.mul').op('i32.add');
      f.get(rowBytes).memoryCopy();
    });
  });
  f.get(biasMode).i32(BIAS.col).op('i32.eq').if(() => { f.get(tileBias).get(bias).get(rowBytes).memoryCopy(); });
  f.get(biasMode).i32(BIAS.row).op('i32.eq').if(() => {
    f.get(tileBias).get(bias).get(mrValid).i32(4).op('i32.mul').memoryCopy();
  });
  callKernelRows(f, kernels, mrValid, () => {
    f.get(pa).get(pb).get(kc).get(scratch).i32(v.nr * 4).get(tileBias).get(biasMode).get(accumulate).get(clampAt);
  });
  f.forUp(i, 0, mrValid, 1, () => {
    f.get(c).get(i).get(ldc).op('i32.mul').op('i32.add');
    f.get(scratch).get(i).i32(v.nr * 4).op('i32.mul').op('i32.add');
    f.get(rowBytes).memoryCopy();
  });
}

/**
 * The driver (BLIS loop order): K blocks of kc, M blocks of mc (packed A block in
 * L2), NR-column panels of B (a kc×NR panel in L1), MR-row panels of A. Bias is
 * added in the first K block, the clamp applied in the last.
 * Params: (pa, pb, c, ldc, M, N, K, bias, biasMode, accumulate, clamp, lo, hi, scratch); ldc in elements.
 */
function emitDriver(f: FuncBuilder, v: GemmVariant, kernels: number[], edge: number, wide: Wide[]): void {
  const [pa, pb, c, ldc, M, N, K, bias, biasMode, accumulate, clamp, lo, hi, scratch] = f.params;
  const k0 = f.local(), kc = f.local(), ic = f.local(), icEnd = f.local(), ip = f.local(), jp = f.local(), ldcB = f.local();
  const accF = f.local(), biasF = f.local(), clampF = f.local(), pbp = f.local(), pap = f.local();
  const mrv = f.local(), nrv = f.local(), ct = f.local(), bt = f.local(), j0 = f.local();
  f.get(ldc).i32(4).op('i32.mul').set(ldcB);
  // the clamp bounds go to scratch (after the edge tile and its bias) for the kernels to read
  f.get(scratch).get(lo).mem('f32.store', clampOffset(v)).get(scratch).get(hi).mem('f32.store', clampOffset(v) + 4);
  f.i32(0).set(k0);
  f.loop((kTop) => { // runs once even when K = 0, so that C still gets bias/accumulate/clamp
    f.get(K).get(k0).op('i32.sub').set(kc);
    f.get(kc).i32(v.kc).op('i32.gt_s').if(() => { f.i32(v.kc).set(kc); });
    f.get(k0).op('i32.eqz').if(() => { f.get(accumulate).set(accF).get(biasMode).set(biasF); },
      () => { f.i32(1).set(accF).i32(0).set(biasF); });
    f.get(k0).get(kc).op('i32.add').get(K).op('i32.ge_s').get(clamp).op('i32.and').if(() => {
      f.get(scratch).i32(clampOffset(v)).op('i32.add').set(clampF);
    }, () => { f.i32(0).set(clampF); });
    f.forUp(ic, 0, M, v.mc, () => {
      f.get(ic).i32(v.mc).op('i32.add').set(icEnd);
      f.get(icEnd).get(M).op('i32.gt_s').if(() => { f.get(M).set(icEnd); });
      const l = { pa, pb, c, K, M, N, ldc, bias, scratch, k0, kc, ip, jp, ldcB, accF, biasF, clampF, pbp, pap, mrv, nrv, ct, bt };
      f.i32(0).set(j0);
      // fewer rows than MR: whole groups of panels on the wide kernels first
      wide.forEach((w, r) => f.get(M).i32(r).op('i32.eq').if(() => {
        f.get(ic).set(ip);
        f.block((done) => f.loop((top) => {
          f.get(j0).i32(w.panels * v.nr).op('i32.add').get(N).op('i32.gt_s').brIf(done);
          f.get(j0).set(jp);
          panelAddresses(f, v, l);
          tileAddresses(f, v, l);
          tileArgs(f, l);
          f.get(K).i32(v.nr * 4).op('i32.mul').call(w.fn);
          f.addTo(j0, w.panels * v.nr).br(top);
        }));
      }));
      f.forUp(jp, j0, N, v.nr, () => {
        panelAddresses(f, v, l);
        f.forUp(ip, ic, icEnd, v.mr, () => emitTile(f, v, kernels, edge, l));
      });
    });
    f.addTo(k0, kc);
    f.get(k0).get(K).op('i32.lt_s').brIf(kTop);
  });
}

/** The B panel at column jp in this K block (pbp) and the columns left from it (nrv). */
function panelAddresses(f: FuncBuilder, v: GemmVariant, l: Record<string, Local>): void {
  // pbp = pb + jp*K*4 + k0*NR*4
  f.get(l.pb).get(l.jp).get(l.K).op('i32.mul').i32(4).op('i32.mul').op('i32.add').get(l.k0).i32(v.nr * 4).op('i32.mul').op('i32.add').set(l.pbp);
  f.get(l.N).get(l.jp).op('i32.sub').set(l.nrv);
}

/** A tile's packed A (pap), its rows (mrv, at most MR), its C and bias (ct, bt), for the tile at (ip, jp). */
function tileAddresses(f: FuncBuilder, v: GemmVariant, l: Record<string, Local>): void {
  f.get(l.pa).get(l.ip).get(l.K).op('i32.mul').i32(4).op('i32.mul').op('i32.add').get(l.k0).i32(v.mr * 4).op('i32.mul').op('i32.add').set(l.pap);
  f.get(l.M).get(l.ip).op('i32.sub').set(l.mrv);
  f.get(l.mrv).i32(v.mr).op('i32.gt_s').if(() => { f.i32(v.mr).set(l.mrv); });
  f.get(l.c).get(l.ip).get(l.ldc).op('i32.mul').get(l.jp).op('i32.add').i32(4).op('i32.mul').op('i32.add').set(l.ct);
  f.get(l.bias).get(l.biasF).i32(BIAS.col).op('i32.eq').if(() => { f.get(l.jp); }, () => { f.get(l.ip); }, I32);
  f.i32(4).op('i32.mul').op('i32.add').set(l.bt);
}

/** A micro-kernel's parameters for the tile tileAddresses set up. */
function tileArgs(f: FuncBuilder, l: Record<string, Local>): void {
  f.get(l.pap).get(l.pbp).get(l.kc).get(l.ct).get(l.ldcB).get(l.bt).get(l.biasF).get(l.accF).get(l.clampF);
}

/** One MR×NR tile of the driver: full tiles and bottom tiles call a kernel on C directly, right-edge tiles go through scratch. */
function emitTile(f: FuncBuilder, v: GemmVariant, kernels: number[], edge: number, l: Record<string, Local>): void {
  tileAddresses(f, v, l);
  const args = (): void => tileArgs(f, l);
  f.get(l.nrv).i32(v.nr).op('i32.ge_s').if(() => {
    f.get(l.mrv).i32(v.mr).op('i32.eq').if(() => { args(); f.call(kernels[v.mr]); },
      () => callKernelRows(f, kernels, l.mrv, args));
  }, () => {
    args();
    f.get(l.mrv).get(l.nrv).get(l.scratch).call(edge);
  });
}
