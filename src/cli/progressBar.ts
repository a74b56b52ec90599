/**
 * A progress bar on stderr (stdout stays clean for `--json`). Drawn only on a terminal: in CI
 * logs a redrawn line becomes thousands of lines, so there it prints at most one line per 10%.
 */
export class ProgressBar {
  private lastDraw = 0;
  private lastDecile = -1;
  private started = Date.now();
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {}

  update(done: number, total: number): void {
    if (!this.enabled || total <= 0) return;
    const now = Date.now();
    const frac = Math.min(1, done / total);
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100 && done < total) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round(frac * width);
      const eta = frac > 0 ? ((now - this.started) / 1000) * (1 / frac - 1) : 0;
      const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}` + (done < total ? ` ETA ${eta.toFixed(0)}s` : '');
      this.stream.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      const decile = Math.floor(frac * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.stream.write(`${this.label}: ${done}/${total}\n`);
    }
  }

  finish(): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\n');
    this.drawn = false;
  }
}
