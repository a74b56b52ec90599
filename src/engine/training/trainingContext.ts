/**
 * What a training job gets from the worker (a subset of `JobContext`, so the jobs can also run
 * in-process in tests), and the progress it reports: `done / total` counts batches over all
 * epochs, `detail` is a `TrainingProgress`.
 */
import type { EpochReport, ResolvedTrainingOptions, TrainingProgress } from './types';

export interface TrainingContext {
  /** Hard cancel: stop at once, write nothing. */
  signal: AbortSignal;
  /** Cooperative stop: finish at the next batch boundary and save the best epoch so far. */
  stop?: AbortSignal;
  backend: string;
  progress(done: number, total: number, detail?: unknown): void;
}

export function batchProgress(ctx: TrainingContext, epochs: number, epoch: number, batch: number, batches: number): void {
  const detail: TrainingProgress = { phase: 'batch', epoch, batch, batches };
  ctx.progress((epoch - 1) * batches + batch, epochs * batches, detail);
}

export function epochProgress(ctx: TrainingContext, epochs: number, report: EpochReport, batches: number): void {
  const detail: TrainingProgress = { phase: 'epoch', report };
  ctx.progress(report.epoch * batches, epochs * batches, detail);
}

export function featuresProgress(ctx: TrainingContext, done: number, total: number): void {
  const detail: TrainingProgress = { phase: 'features', done, total };
  ctx.progress(done, total, detail);
}

/**
 * The part of a training loop's spec that a head and a fine-tuning job set alike: the schedule
 * from the resolved options, cancellation and stop from the context, and progress per batch and
 * per epoch (`trainCount` training images give the batch count the progress is measured in).
 */
export function loopSettings(o: ResolvedTrainingOptions, ctx: TrainingContext, trainCount: number) {
  return {
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    patience: o.patience,
    signal: ctx.signal,
    stop: ctx.stop,
    onBatch: (epoch: number, batch: number, batches: number) => batchProgress(ctx, o.epochs, epoch, batch, batches),
    onEpoch: (report: EpochReport) => epochProgress(ctx, o.epochs, report, Math.ceil(trainCount / o.batchSize)),
  };
}
