// One error type for bad input: the CLI prints `nnzip: error: <message>` and exits 2.
// Anything else that escapes is an internal failure (exit 1).

export class NnzipError extends Error {
  /** 2 = bad usage or bad input (the default), 1 = internal failure. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'NnzipError';
    this.exitCode = exitCode;
  }
}

/** Throws a bad-input error naming where it happened, e.g. `model.onnx: node "conv2" (Conv): ...`. */
export function fail(message: string): never {
  throw new NnzipError(message);
}
