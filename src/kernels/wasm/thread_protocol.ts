// The control block shared by the Node thread pool and its workers: a few i32
// words (sequence numbers, function id, argument count, error flag) then the
// arguments as f64 (exact for i32 offsets, and carries f32 values).

export const CTRL = {
  /** Bumped by the caller for each command. */
  seq: 0,
  /** Set to seq by the worker when the command is done. */
  done: 1,
  /** Function id to call, or a command below. */
  fn: 2,
  nargs: 3,
  /** Non-zero when the last command threw. */
  error: 4,
  words: 8,
  cmdRegister: -1,
  cmdExit: -2,
} as const;

export const MAX_ARGS = 32;

/** Spin iterations before sleeping in Atomics.wait (a hand-off is then ~1 µs, not a futex wake-up). */
export const SPIN = 20000;

export function slotBytes(): number {
  return CTRL.words * 4 + MAX_ARGS * 8;
}
