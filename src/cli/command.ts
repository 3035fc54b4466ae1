// What every CLI command provides: one thin file per command under src/cli/commands/.
export interface Command {
  name: string;
  summary: string;
  /** Full `--help` text. */
  usage: string;
  /** Returns the exit code. Throws NnzipError for bad input. */
  run(argv: string[]): Promise<number>;
}
