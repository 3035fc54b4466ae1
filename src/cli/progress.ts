// A progress bar on a TTY; plain lines (at most every few seconds) in CI and pipes.

export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  private readonly start = Date.now();
  private lastLine = 0;

  constructor(private readonly label: string, private readonly total: number) {}

  update(done: number, extra = ''): void {
    const now = Date.now();
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? elapsed * (1 / frac - 1) : 0;
    const tail = `${(frac * 100).toFixed(0).padStart(3)}% ${done}/${this.total} ${extra} ETA ${eta.toFixed(0)}s`;
    if (this.tty) {
      const width = 30;
      const fill = Math.round(frac * width);
      process.stderr.write(`\r${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${tail}\x1b[K`);
    } else if (now - this.lastLine > 5000 || done >= this.total) {
      this.lastLine = now;
      process.stderr.write(`${this.label}: ${tail}\n`);
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
