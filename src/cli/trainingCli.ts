/**
 * What `train-head` and `fine-tune` share: turning their flags into `TrainingOptions`, the live
 * per-epoch table (a row as each epoch ends, on stdout), the progress bar for the feature pass
 * and the batches (stderr), and the documented JSON document.
 */
import type { CliContext } from './commands';
import type { EpochReport, TrainingMode, TrainingOptions, TrainingPlan, TrainingProgress, TrainingResult } from '../engine/training/types';
import { CancelledError } from '../engine/workerPool';
import { ProgressBar } from './progressBar';
import { thousands } from '../engine/report/textTable';
import { UsageError } from './usage';

/** Flags of each mode (besides --data, --out, --batch-size, which every command knows). */
export const HEAD_FLAGS = ['cut-at', 'hidden'] as const;
export const FINE_TUNE_FLAGS = ['unfreeze', 'from-layer', 'augment'] as const;
export const COMMON_TRAINING_FLAGS = ['epochs', 'learning-rate', 'validation-split', 'seed', 'patience'] as const;

function flag(ctx: CliContext, name: string): unknown {
  return ctx.options?.[name];
}

function int(ctx: CliContext, name: string, min: number): number | undefined {
  const v = flag(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min} (got "${String(v)}")`);
  return n;
}

function num(ctx: CliContext, name: string, ok: (n: number) => boolean, what: string): number | undefined {
  const v = flag(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name} must be ${what} (got "${String(v)}")`);
  return n;
}

/** Flag checks that need no engine (exit code 2). */
export function checkTrainingFlags(ctx: CliContext, mode: TrainingMode): void {
  const command = mode === 'head' ? 'train-head' : 'fine-tune';
  if (!ctx.out) throw new UsageError(`${command} needs --out DIR: the new model's folder (it must not exist yet)`);
  const foreign = mode === 'head' ? FINE_TUNE_FLAGS : HEAD_FLAGS;
  for (const f of foreign) if (flag(ctx, f) !== undefined) throw new UsageError(`--${f} is an option of ${mode === 'head' ? 'fine-tune' : 'train-head'}, not of ${command}`);
  if (flag(ctx, 'unfreeze') !== undefined && flag(ctx, 'from-layer') !== undefined) throw new UsageError('give --unfreeze N or --from-layer NAME, not both');
  trainingOptions(ctx, mode);
}

export function trainingOptions(ctx: CliContext, mode: TrainingMode): TrainingOptions {
  const o: TrainingOptions = {
    data: ctx.data ?? '',
    out: ctx.out ?? '',
    batchSize: ctx.batchSize,
    epochs: int(ctx, 'epochs', 1),
    learningRate: num(ctx, 'learning-rate', (n) => n > 0 && n < 10, 'a number > 0, e.g. 0.001'),
    validationSplit: num(ctx, 'validation-split', (n) => n > 0 && n < 1, 'a fraction between 0 and 1, e.g. 0.15'),
    seed: int(ctx, 'seed', 0),
    patience: int(ctx, 'patience', 0),
  };
  if (mode === 'head') {
    o.cutAt = flag(ctx, 'cut-at') as string | undefined;
    o.hidden = int(ctx, 'hidden', 0);
  } else {
    o.unfreeze = int(ctx, 'unfreeze', 1);
    o.fromLayer = flag(ctx, 'from-layer') as string | undefined;
    if (flag(ctx, 'augment')) o.augment = true;
  }
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as unknown as TrainingOptions;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const num4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : '-');

function deadText(dead: Record<string, number>): string {
  return Object.entries(dead)
    .map(([layer, n]) => `${layer} ${n}`)
    .join(', ');
}

const COLUMNS: [string, number][] = [
  ['Epoch', 5],
  ['Loss', 8],
  ['Acc', 7],
  ['Val loss', 8],
  ['Val acc', 7],
  ['Time', 7],
];

/** One row of the live table; widths are fixed because rows are printed as epochs end. */
export function epochRow(r: EpochReport | null, best = false): string {
  const cells = r
    ? [String(r.epoch), num4(r.loss), pct(r.acc), num4(r.valLoss), pct(r.valAcc), `${r.seconds.toFixed(1)} s`]
    : COLUMNS.map(([h]) => h);
  const line = cells.map((c, i) => c.padStart(COLUMNS[i][1])).join('  ');
  return r ? `${line}  ${best ? '*' : ' '} ${deadText(r.dead)}` : `${line}    Dead units (validation)`;
}

export function planText(plan: TrainingPlan): string {
  const o = plan.options;
  const what =
    plan.mode === 'head'
      ? `New head on "${plan.cutAt}" of ${plan.model}${o.hidden ? ` (hidden Dense ${o.hidden})` : ''}`
      : `Fine-tuning ${plan.layers.filter((l) => l.trainable).map((l) => l.name).join(', ')} of ${plan.model}`;
  return (
    `${what}\n` +
    `${plan.classNames.length} classes (${plan.classNames.join(', ')}) from ${o.data}\n` +
    `${thousands(plan.trainImages)} training / ${thousands(plan.validationImages)} validation images; ` +
    `${thousands(plan.trainableParams)} trainable, ${thousands(plan.frozenParams)} frozen parameters\n` +
    `Adam lr ${o.learningRate}, batch ${o.batchSize}, up to ${o.epochs} epochs, early stopping after ${o.patience || '∞'}` +
    `${plan.mode === 'fine-tune' && (o.augment.flip || o.augment.shift) ? `, augmentation (flip ${o.augment.flip}, shift ${o.augment.shift})` : ''}\n`
  );
}

/** The documented JSON document. */
export function trainingJson(r: TrainingResult) {
  return {
    backend: r.backend ?? null,
    mode: r.mode,
    model: r.plan.model,
    data: r.plan.options.data,
    out: r.out,
    plan: {
      classNames: r.plan.classNames,
      trainImages: r.plan.trainImages,
      validationImages: r.plan.validationImages,
      trainableParams: r.plan.trainableParams,
      frozenParams: r.plan.frozenParams,
      layers: r.plan.layers,
      ...(r.plan.cutAt ? { cutAt: r.plan.cutAt } : {}),
      options: r.plan.options,
    },
    epochs: r.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, acc: e.acc, valLoss: e.valLoss, valAcc: e.valAcc, seconds: e.seconds, dead: e.dead })),
    best: r.best,
    ...(r.before ? { before: r.before } : {}),
    stoppedEarly: r.stoppedEarly,
    cancelled: r.cancelled,
    seconds: r.seconds,
  };
}

/** Runs the training with the plan first, the live table and progress; prints the result. */
export async function runTraining(ctx: CliContext, mode: TrainingMode): Promise<void> {
  const options = trainingOptions(ctx, mode);
  const plan = await ctx.client.planTraining(ctx.model, mode, options, { signal: ctx.signal });
  if (!ctx.json) ctx.stdout.write(planText(plan) + '\n');
  const features = new ProgressBar(mode === 'head' ? 'features' : 'images', ctx.stderr);
  const batches = new ProgressBar('training', ctx.stderr, !!ctx.stderr.isTTY);
  let headerDone = false;
  let bestLoss = Infinity;
  const onProgress = (done: number, total: number, detail?: unknown): void => {
    const d = detail as TrainingProgress | undefined;
    if (!d) return;
    if (d.phase === 'features') features.update(d.done, d.total);
    else if (d.phase === 'batch') batches.update(done, total);
    else if (d.phase === 'epoch' && !ctx.json) {
      batches.finish();
      if (!headerDone) {
        features.finish();
        ctx.stdout.write(epochRow(null) + '\n');
        headerDone = true;
      }
      const best = d.report.valLoss < bestLoss;
      if (best) bestLoss = d.report.valLoss;
      ctx.stdout.write(epochRow(d.report, best) + '\n');
    }
  };
  const run = mode === 'head' ? ctx.client.trainHead(ctx.model, options, { signal: ctx.signal, onProgress }) : ctx.client.fineTune(ctx.model, options, { signal: ctx.signal, onProgress });
  const r = await run;
  features.finish();
  batches.finish();
  if (ctx.json) ctx.stdout.write(JSON.stringify(trainingJson(r), null, 2) + '\n');
  else {
    const b = r.best;
    ctx.stdout.write(
      `\n${r.cancelled ? 'Stopped' : r.stoppedEarly ? 'Stopped early (no lower validation loss)' : 'Done'} after ${r.epochs.length} epoch${r.epochs.length === 1 ? '' : 's'} in ${r.seconds.toFixed(1)} s (backend ${r.backend}). ` +
        `Best: epoch ${b.epoch}, validation accuracy ${pct(b.valAcc)}, loss ${num4(b.valLoss)}` +
        (r.before ? `; the source model on the same images: ${pct(r.before.valAcc)}` : '') +
        `\nSaved to ${r.out}\n`,
    );
  }
  if (r.cancelled) {
    ctx.stderr.write(`cnn-lens: stopped after epoch ${r.epochs.length}; the best epoch (${r.best.epoch}) was saved to ${r.out}\n`);
    throw new CancelledError();
  }
}
