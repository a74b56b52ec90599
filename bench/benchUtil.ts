/**
 * Small helpers every benchmark program (run.ts, embed.ts, training.ts) uses: rounding for the
 * JSON, the median the results report, and the entry point's exit handling.
 */

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs a benchmark's `main` and exits: 0 when it resolves, 1 (with the error on stderr) when it
 * throws. Exiting explicitly matters: a stray engine worker or Python child must not keep the
 * process (and `bench/all.mjs`, which runs the programs in turn) waiting.
 */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
