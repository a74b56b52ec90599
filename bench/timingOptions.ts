/** The options the timing benchmarks (run.ts, training.ts) share. */
import * as path from 'node:path';
import { numberOption, type ScriptValues } from '../scripts/scriptArgs';

export const TIMING_OPTIONS = {
  reps: { type: 'string' },
  quick: { type: 'boolean' },
  'no-torch': { type: 'boolean' },
  'wait-quiet': { type: 'string' },
  out: { type: 'string' },
} as const;

export interface TimingOptions {
  reps: number;
  quick: boolean;
  torch: boolean;
  /** Seconds to wait, before each timed repetition, for the machine to be quiet (0 = don't). */
  waitQuiet: number;
  out: string;
}

/** `--reps N` (at least 1; `--quick` means `quickReps` unless `--reps` is given), `--quick`, `--no-torch`, `--wait-quiet S`, `--out FILE`. */
export function timingOptions(v: ScriptValues<typeof TIMING_OPTIONS>, defaults: { reps: number; quickReps: number; out: string }): TimingOptions {
  const reps = numberOption('--reps', v.reps);
  const waitQuiet = numberOption('--wait-quiet', v['wait-quiet']);
  return {
    reps: reps !== undefined ? Math.max(1, Math.floor(reps)) : v.quick ? defaults.quickReps : defaults.reps,
    quick: !!v.quick,
    torch: !v['no-torch'],
    waitQuiet: waitQuiet !== undefined ? Math.max(0, waitQuiet) : 0,
    out: path.resolve(v.out ?? defaults.out),
  };
}
