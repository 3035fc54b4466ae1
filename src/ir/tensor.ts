// Typed tensors: the data array's type follows the dtype (as in onnxruntime-common).

export type DType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'bool';

export type TensorData = {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
};

export type AnyData = TensorData[DType];

const CONSTRUCTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
} as const;

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, bool: 1,
};

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: number[];
  readonly data: TensorData[D];

  constructor(dtype: D, shape: readonly number[], data?: TensorData[D]) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`tensor shape [${shape.join(',')}] has an invalid dimension ${d}`);
    }
    const n = sizeOf(shape);
    const made = data ?? (new CONSTRUCTORS[dtype](n) as TensorData[D]);
    if (made.length !== n) {
      throw new Error(`tensor of shape [${shape.join(',')}] needs ${n} ${dtype} values, got ${made.length}`);
    }
    this.dtype = dtype;
    this.shape = [...shape];
    this.data = made;
  }

  get size(): number {
    return this.data.length;
  }

  /** Same data, new shape (no copy). */
  reshape(shape: readonly number[]): Tensor<D> {
    return new Tensor(this.dtype, shape, this.data);
  }

  clone(): Tensor<D> {
    return new Tensor(this.dtype, this.shape, this.data.slice() as TensorData[D]);
  }
}

export function f32(shape: readonly number[], data?: Float32Array | number[]): Tensor<'float32'> {
  return new Tensor('float32', shape, data instanceof Float32Array ? data : data ? Float32Array.from(data) : undefined);
}

export function i64(shape: readonly number[], data: readonly (number | bigint)[]): Tensor<'int64'> {
  return new Tensor('int64', shape, BigInt64Array.from(data.map((v) => BigInt(v))));
}

/** Values as plain numbers, whatever the dtype (int64 converted; used for shapes, axes, indices). */
export function toNumbers(t: Tensor): number[] {
  const out = new Array<number>(t.size);
  for (let i = 0; i < t.size; i++) out[i] = Number(t.data[i]);
  return out;
}

/** A tensor of the given dtype filled from plain numbers (rounded/wrapped as the typed array does). */
export function fromNumbers<D extends DType>(dtype: D, shape: readonly number[], values: ArrayLike<number>): Tensor<D> {
  const t = new Tensor(dtype, shape);
  if (dtype === 'int64') {
    const d = t.data as BigInt64Array;
    for (let i = 0; i < values.length; i++) d[i] = BigInt(Math.trunc(values[i]));
  } else {
    (t.data as Exclude<AnyData, BigInt64Array>).set(values);
  }
  return t;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}
