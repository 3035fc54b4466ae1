// A weight's output channels (axis 0) as contiguous slices: per-channel scales of
// quantization, binarization and ternarization.

/** Calls fn(start, end) for each output channel's contiguous slice. */
export function perChannel(shape: readonly number[], n: number, fn: (start: number, end: number) => void): void {
  const channels = shape.length > 1 ? shape[0] : 1;
  const per = n / channels;
  for (let c = 0; c < channels; c++) fn(c * per, (c + 1) * per);
}
