// The IDX file format (MNIST, Fashion-MNIST): big-endian header, then raw bytes.
import { fail } from '../ir/errors.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Parses an IDX file of unsigned bytes (the only type MNIST-style datasets use). */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) fail(`${source}: not an IDX file (bad magic); reinstall the dataset`);
  if (bytes[2] !== UBYTE) fail(`${source}: IDX element type 0x${bytes[2].toString(16)} is not unsigned byte`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = 4 + 4 * rank;
  if (bytes.length < header) fail(`${source}: IDX header is truncated; reinstall the dataset`);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length < header + n) fail(`${source}: IDX data is truncated (${bytes.length - header} of ${n} bytes); reinstall the dataset`);
  return { shape, data: bytes.subarray(header, header + n) };
}
