// Typed views over the whole arena memory, recreated only when the memory has
// grown (a grown WebAssembly memory detaches the old buffer). Steps that compute
// in JS read `views.f32` at run time and index it with element offsets.
import type { AnyData, DType } from '../ir/tensor.js';
import type { WasmMemory } from '../kernels/wasm/wasm_api.js';

const CONSTRUCTORS = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array,
  uint16: Uint16Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array,
} as const;

type NumberDType = Exclude<DType, 'int64'>;

export class ArenaViews {
  f32!: Float32Array;
  u8!: Uint8Array;
  /** Whole-memory views of every dtype but int64 (its offsets need 8-byte alignment; see typed()). */
  readonly of = {} as Record<NumberDType, Exclude<AnyData, BigInt64Array>>;
  private buffer?: ArrayBufferLike;

  constructor(readonly memory: WasmMemory) {
    this.refresh();
  }

  /** Call before touching the views if the memory may have grown since. */
  refresh(): void {
    const b = this.memory.buffer;
    if (b === this.buffer) return;
    this.buffer = b;
    for (const d of Object.keys(CONSTRUCTORS) as DType[]) {
      if (d !== 'int64' && d !== 'float64') this.of[d] = new (CONSTRUCTORS[d] as Float32ArrayConstructor)(b);
    }
    this.of.float64 = new Float64Array(b, 0, b.byteLength >> 3);
    this.f32 = this.of.float32 as Float32Array;
    this.u8 = this.of.uint8 as Uint8Array;
  }

  /** A view of `length` elements of any dtype at a byte offset (allocates; for the less travelled paths). */
  typed(dtype: DType, byteOffset: number, length: number): AnyData {
    return new CONSTRUCTORS[dtype](this.memory.buffer, byteOffset, length) as AnyData;
  }

  /** A fresh (unshared) copy of `length` elements at a byte offset. */
  copyOut(dtype: DType, byteOffset: number, length: number): AnyData {
    if (dtype === 'float32') return this.f32.slice(byteOffset >> 2, (byteOffset >> 2) + length);
    const out = new CONSTRUCTORS[dtype](length) as AnyData;
    (out as Float32Array).set(this.typed(dtype, byteOffset, length) as Float32Array);
    return out;
  }
}
