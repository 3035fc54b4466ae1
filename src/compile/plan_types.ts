// What the planner produces: an ordered list of lowered steps (one per kernel
// call site, with fused nodes folded in), the values they read and write, and
// the buffers those values live in (offsets assigned by lifetime, memory.ts).
// Pure data: the runtime (src/runtime/steps/) turns each step kind into an
// executor bound to arena offsets.
import type { Window2d } from '../ir/window.js';
import type { Node } from '../ir/graph.js';
import type { PatternFormat, TensorFormat } from '../ir/tensor_format.js';
import type { IntWinogradTile, WinogradTile } from '../ir/winograd.js';
import type { FusedPool, PatternVariant } from '../kernels/wasm/pattern_spec.js';
import type { DType, Tensor } from '../ir/tensor.js';
import type { QEpilogue, QInType } from '../kernels/wasm/qgemm.js';

export type KernelsMode = 'auto' | 'dense';

/** Planner options of the pattern kernel (benchmarks, the ablation, the tuner). */
export interface PatternOptions {
  /** 'auto' (default): when the cost model says it wins; 'always': whenever the layer has patterns; 'never'. */
  use?: 'auto' | 'always' | 'never';
  /** The variant of a conv node (tuned), when known. */
  variant?: (node: string, key: string) => PatternVariant | undefined;
  /** FKR row order (default true). */
  reorder?: boolean;
  /**
   * Session: tune every pattern layer the plan runs (compile/pattern_tune.ts tunePlan) for its batch
   * class and thread count, unless the tuning cache has it, and plan again when a tuned variant is
   * not the planned one (default false: the tuned variants already cached or imported, else the default).
   */
  tune?: boolean;
}

/** Whether 3×3 stride-1 convs may run Winograd: 'auto' (the cost model decides), 'off', 'on' (always, the best tile), or one tile. */
export type WinogradMode = 'auto' | 'off' | 'on' | WinogradTile;

/**
 * What the plan is for: 'wasm' (the runtime: packed panels, scratch, 64-byte lines)
 * or 'c' (the C backend: direct kernels, 4-byte alignment, pools fused into the conv
 * before them, 8-bit layers where the graph is quantized).
 */
export type PlanTarget = 'wasm' | 'c';

/** A value of the graph as the plan sees it: where its bytes live. */
export interface PlanValue {
  name: string;
  dtype: DType;
  shape: number[];
  bytes: number;
  /** Known when planning (initializer or folded shape arithmetic): no buffer. */
  const?: Tensor;
  /** Index into plan.buffers (-1 for constants). */
  buffer: number;
  /** Byte offset of the value inside its buffer (non-zero for slices of a concat's output). */
  offset: number;
}

export type BufferRole = 'input' | 'intermediate' | 'output' | 'scratch';

export interface PlanBuffer {
  id: number;
  bytes: number;
  role: BufferRole;
  /** First and last step index that touch it (-1 = before the first step; steps.length = after the last). */
  first: number;
  last: number;
  /** Byte offset in the activation region (assigned by the memory planner). */
  offset: number;
  /** Values stored in it (aliases and views included). */
  values: string[];
}

/** A weight as the kernels take it: the dense float values (always present) and how the graph stores it. */
export interface PlanWeight {
  /** Initializer name (or the name of the node that produced folded weights). */
  name: string;
  /** Dense row-major values in the layout the step states; shared with the graph unless `derived`. */
  data: Float32Array;
  format?: TensorFormat;
  /** The values were transformed at plan time (BatchNorm folding, alpha, transposition). */
  derived?: string;
}

interface StepBase {
  /** Name of the main node (the kernel's). */
  name: string;
  op: string;
  /** Every graph node this step covers (fused activations, folded BatchNorm, ...). */
  nodes: string[];
  /** Values read (arena or constant) and written. */
  inputs: string[];
  outputs: string[];
  /** Kernel name as shown by describe(), and why it was chosen. */
  kernel: string;
  reason: string;
  /** Cost-model estimate in ns per call, when the model covers the kernel. */
  estNs?: number;
  /** Threads the step's work is split over (1 = the calling thread only). */
  split: number;
  /** Scratch bytes of the step, all parts together (im2col patches, packed panels, padded planes). */
  scratch: number;
  /** Byte offset of the scratch in the activation region (set by the memory planner). */
  scratchAt: number;
}

/** x·scale[c] + shift[c] per input channel of an xnor layer, before the sign. */
export interface XnorPre {
  scale: Float32Array;
  shift: Float32Array;
}

/** Y[M×N] = A[M×K]·W (+ bias) then clamp: Gemm / MatMul with a constant weight. */
export interface FcStep extends StepBase {
  kind: 'fc';
  M: number; N: number; K: number;
  transA: boolean;
  /** Weight in [N×K] layout (the Linear / transB=1 layout: one row per output). */
  weight: PlanWeight;
  bias?: Float32Array;
  clamp?: [number, number];
  /** xnor: binary / ternary weights on Sign(x), the popcount kernel (compile/lower_xnor.ts); addsub: binary / ternary weights on float inputs (kernels/wasm/addsub.ts). */
  impl: 'dense' | 'csr' | 'csc' | 'sparse-auto' | 'xnor' | 'addsub';
  /** xnor: the per-input affine (a BatchNormalization) before its Sign, applied while packing (compile/fuse.ts). */
  pre?: XnorPre;
  /** How a split batched sparse step shares out: by samples (each thread its band of X) or by rows of the weights. */
  splitBy?: 'samples' | 'rows';
}

/** One scale and zero point of an 8-bit activation (int8 or uint8), and its saturation range. */
export interface Quant8 {
  scale: number;
  zero: number;
  lo: number;
  hi: number;
}


/**
 * How a conv shares its work and lays out its scratch (compile/conv_layout.ts):
 * `sets` areas of [patches | panels | plane] bytes, one per thread (dense), per
 * chunk of images or band of output rows (sparse).
 */
export interface ConvLayout {
  split: number;
  /** Threads take whole images (else bands of output rows of each image). */
  byImages: boolean;
  sets: number;
  patches: number;
  panels: number;
  plane: number;
  /** Dense im2col / 1×1: output rows per GEMM (absent: all of an image's, or of a thread's band). */
  rows?: number;
  /** Winograd: tile rows per chunk, whether threads share each chunk's output channels (else take chunks round-robin), bytes of one set of buffers. */
  winograd?: { rowsPerChunk: number; byChannels: boolean; setBytes: number };
}

/** What the pattern kernel runs (impl 'pattern'): the layer's patterns, the generated code's variant, FKR on or off. */
export interface PatternPlan {
  format: PatternFormat;
  variant: PatternVariant;
  reorder: boolean;
  /** The 2×2 stride-2 max pool before the conv, fused into its pad step (the step then reads the pool's input, H0 × W0). */
  maxPool?: FusedPool;
}

export interface ConvStep extends StepBase {
  kind: 'conv';
  N: number; C: number; H: number; W: number; M: number; OH: number; OW: number;
  group: number;
  win: Window2d;
  /** [M, C/group, kh, kw] flattened. */
  weight: PlanWeight;
  bias?: Float32Array;
  clamp?: [number, number];
  /**
   * xnor: binary / ternary weights on Sign(x), the popcount kernel (compile/lower_xnor.ts); addsub: binary / ternary
   * weights on float inputs, table sums (kernels/wasm/addsub.ts); pattern: FKW pattern kernels (compile/pattern_choice.ts).
   */
  impl: 'im2col' | 'pointwise' | 'depthwise' | 'csr' | 'winograd' | 'xnor' | 'addsub' | 'pattern';
  /** xnor: the per-channel affine (a BatchNormalization) before its Sign, applied while packing (compile/fuse.ts). */
  pre?: XnorPre;
  /** The Winograd output tile F(m×m, 3×3). */
  tile?: WinogradTile;
  /** impl 'pattern' only. */
  pattern?: PatternPlan;
  layout: ConvLayout;
  /** Elements between consecutive images of the output (M·OH·OW unless it writes into a concat). */
  outImageStride: number;
  /** The pool after it, done on each band of output rows as it is made (target 'c', compile/fuse.ts). */
  pool?: PoolStep;
  /** With a pool: pooled rows made per band, and the conv rows a band holds (conv_layout.ts, convBand). */
  band?: { pooled: number; rows: number };
  /** Target 'c', pattern kernel: output rows made per band of padded input rows (conv_layout.ts cPatternPlanes; default the whole plane). */
  patternRows?: number;
  /** Target 'c', pattern kernel: copies of the padded planes shifted by 1 and 2 columns too (cPatternPlanes; default on where rows are whole vectors). */
  patternShifted?: boolean;
  /** Target 'c': by stored weight over output rows ('taps'), input channel by input channel over its shifted copies ('channels'), FKW pattern blocks ('pattern') or Winograd tiles ('winograd'; conv_layout.ts, cConvKernel). */
  cKernel?: 'taps' | 'channels' | 'pattern' | 'winograd';
}

export interface PoolStep extends StepBase {
  kind: 'pool';
  mode: 'max' | 'avg';
  N: number; C: number; H: number; W: number; OH: number; OW: number;
  win: Window2d;
  ceil: boolean;
  countIncludePad: boolean;
  outImageStride: number;
}

/** Mean or max over each plane (GlobalAveragePool, ReduceMean over H and W). */
export interface GlobalPoolStep extends StepBase {
  kind: 'globalpool';
  mode: 'avg' | 'max';
  planes: number;
  size: number;
}

/** y = min(max(x, lo), hi) on n floats (Relu, Clip) in WebAssembly. */
export interface ClampStep extends StepBase {
  kind: 'clamp';
  n: number;
  lo: number;
  hi: number;
}

export interface UnaryStep extends StepBase {
  kind: 'unary';
  fn: 'Sigmoid' | 'Tanh' | 'LeakyRelu';
  n: number;
  alpha: number;
}

/** One operand of a broadcast binary op: strides per output dim (0 = broadcast). */
export interface BinaryOperand {
  value: string;
  strides: number[];
}

export interface BinaryStep extends StepBase {
  kind: 'binary';
  fn: 'Add' | 'Sub' | 'Mul' | 'Div';
  shape: number[];
  a: BinaryOperand;
  b: BinaryOperand;
  /** A Relu / Clip after it, fused (a residual Add → Relu). */
  clamp?: [number, number];
}

export interface ConcatPart {
  value: string;
  /** Elements per outer block, and where the block starts in the output's block. */
  block: number;
  at: number;
}

/** Copies the inputs that were not written in place by their producers. */
export interface ConcatStep extends StepBase {
  kind: 'concat';
  /** Bytes per element (any dtype is copied as bytes). */
  elemBytes: number;
  outer: number;
  outBlock: number;
  parts: ConcatPart[];
}

export interface SoftmaxStep extends StepBase {
  kind: 'softmax';
  outer: number;
  D: number;
  inner: number;
}

/** Per-tensor or per-axis quantization parameters (flat element i uses floor(i / inner) mod count). */
export interface QuantParams {
  scale: Float32Array;
  zero: number[];
  inner: number;
  count: number;
  /** Saturation range of the quantized type. */
  lo: number;
  hi: number;
}

/** QuantizeLinear, DequantizeLinear, or a Q→DQ pair fused into one float-to-float step. */
export interface QuantStep extends StepBase {
  kind: 'quantize' | 'dequantize' | 'fakequant';
  n: number;
  q: QuantParams;
}

/** y = x·scale[c] + shift[c] (BatchNormalization that could not be folded into a conv). */
export interface AffineStep extends StepBase {
  kind: 'affine';
  outer: number;
  C: number;
  inner: number;
  scale: Float32Array;
  shift: Float32Array;
}

/** The constants of an integer conv / fc (compile/int_layer.ts). */
export interface IntLayer {
  /** The input's type (uint8 is read as x − 128) and zero point (a conv's padding). */
  input: QInType;
  inZero: number;
  /** int8 weights (w − w_zero), one row of K per output channel. */
  weight: Int8Array;
  /** int32 bias per output channel, the input zero point folded in. */
  bias: Int32Array;
  /** Requantization to the output type; absent = the int32 accumulators are the output. */
  epilogue?: QEpilogue;
  /** Largest |accumulator| the inputs can give (< 2^31: no overflow). */
  bound: number;
}

/** Y[M×N] = epilogue(X[M×K]·Wᵀ): QLinearMatMul, MatMulInteger, or a QDQ Gemm / MatMul, on the integer GEMM. */
export interface QFcStep extends StepBase {
  kind: 'qfc';
  M: number; N: number; K: number;
  layer: IntLayer;
}

/** An integer conv: int8 im2col (padded with the input zero point), then the integer GEMM per image and group. */
export interface QConvStep extends StepBase {
  kind: 'qconv';
  N: number; C: number; H: number; W: number; M: number; OH: number; OW: number;
  group: number;
  win: Window2d;
  layer: IntLayer;
  /** The integer Winograd tile (chunks and scratch sets in layout.winograd); absent = im2col + GEMM. */
  tile?: IntWinogradTile;
  layout: ConvLayout;
  outImageStride: number;
  /** A max pool after it: target 'c' makes each pooled value on the spot; WASM (2×2 stride 2) in the integer Winograd's output transform, or after an im2col conv from each image's output in its scratch set (compile/fuse.ts). */
  pool?: QPoolStep;
}

/** Max pooling on int8 / uint8 (exact: the dequantization is monotonic), or average pooling rounded half to even. */
export interface QPoolStep extends StepBase {
  kind: 'qpool';
  mode: 'max' | 'avg';
  dtype: 'int8' | 'uint8';
  N: number; C: number; H: number; W: number; OH: number; OW: number;
  win: Window2d;
  countIncludePad: boolean;
  outImageStride: number;
}

/** y = a + b on int8 / uint8 tensors of one shape, rescaled to y's parameters (ir/quant.ts addValue); a fused ReLU / Clip is in lo / hi. */
export interface QAddStep extends StepBase {
  kind: 'qadd';
  n: number;
  dtype: 'int8' | 'uint8';
  za: number; zb: number; zy: number;
  ma: number; mb: number; shift: number;
  lo: number; hi: number;
}

/** Any other op: its reference kernel, inputs viewed in the arena, outputs copied in. */
export interface ReferenceStep extends StepBase {
  kind: 'reference';
  node: Node;
  why: string;
}

export type PlanStep =
  | FcStep | ConvStep | PoolStep | GlobalPoolStep | ClampStep | UnaryStep | BinaryStep | ConcatStep | SoftmaxStep
  | QuantStep | AffineStep | ReferenceStep | QFcStep | QConvStep | QPoolStep | QAddStep;

export type StepKind = PlanStep['kind'];

export interface MemoryPlan {
  buffers: PlanBuffer[];
  /** Bytes of the activation region: every buffer and scratch at its offset. */
  regionBytes: number;
  /** What the region would take without reuse: the sum of all intermediate values (no inputs, outputs or scratch). */
  intermediateBytes: number;
  /** Largest scratch of any step (all parts). */
  scratchBytes: number;
}

/** A plan input or output that is the 8-bit form of a float graph value (target 'c': int8 in / out). */
export interface QuantBoundary {
  /** The plan's value (8-bit) and the graph's float value it stands for. */
  value: string;
  graphValue: string;
  q: Quant8;
}

export interface Plan {
  graph: string;
  target: PlanTarget;
  /** Concrete shapes of the fed inputs this plan was made for. */
  inputShapes: Record<string, number[]>;
  threads: number;
  kernels: KernelsMode;
  winograd: WinogradMode;
  steps: PlanStep[];
  values: Map<string, PlanValue>;
  inputs: string[];
  outputs: string[];
  memory: MemoryPlan;
  /** Node names that run on their reference kernel, with the reason. */
  fallbacks: { node: string; op: string; why: string }[];
  /** Inputs and outputs taken or given in 8-bit form instead of the graph's float values (target 'c'). */
  boundary: QuantBoundary[];
}
