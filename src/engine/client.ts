/**
 * The engine as the extension host and the CLI see it: the same operations as `jobs.ts`, as
 * promises, with cancellation (`AbortSignal`) and progress, run in worker threads. Dataset-wide
 * work (scan, evaluate) is split into one contiguous shard per worker; the shards' accumulators
 * are merged by a worker so this side never loads TF.js.
 */
import type { BackendPreference } from './backendNames';
import type {
  ActivationsArgs,
  DatasetInfo,
  ErfArgs,
  ErfRadiiArgs,
  JobArgs,
  JobName,
  JobResultOf,
  ShardResult,
} from './jobs';
import type { SkippedFile } from './io/datasets/types';
import type { ScanAccumulator, ScanResult } from './analyses/scan';
import type { EvalAccumulator, EvalResult } from './analyses/evaluate';
import { MessageChannel } from 'worker_threads';
import { WorkerPool, defaultPoolSize } from './workerPool';
import { useDataParallel } from './training/dataParallelMessages';
import type { FeatureShard } from './training/featureCache';
import type { TrainingMode, TrainingOptions, TrainingPlan, TrainingProgress, TrainingResult } from './training/types';
import type { CodesAccumulator, EmbeddingFrame, EmbeddingResult, EmbedOptions, EmbedPhase } from './embedding/embedData';
import { checkEmbedOptions, mergeCodes } from './embedding/embedData';
import type { EmbedProgressDetail } from './jobs';

export interface EmbedCallOptions {
  /** Intermediate layouts while t-SNE / UMAP iterate (at most every ~100 ms). */
  onFrame?(frame: EmbeddingFrame): void;
  /** Progress of every phase: codes (images), neighbors (rows), affinities, optimize (iterations), quality. */
  onPhase?(phase: EmbedPhase, done: number, total: number): void;
}

export interface EmbedReport extends EmbeddingResult {
  backend: string;
  dataset: DatasetInfo;
  /** Files skipped while listing or decoding. */
  skipped: SkippedFile[];
  /** Seconds of the quality figures (not in `seconds`). */
  qualitySeconds: number;
  /** Seconds per projection phase (t-SNE: neighbors, affinities, optimize). */
  timings: Record<string, number>;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** `detail`: an intermediate result some operations report (t-SNE frames, epoch metrics). */
  onProgress?: (done: number, total: number, detail?: unknown) => void;
}

export interface EngineClientOptions {
  backend?: BackendPreference;
  /** Worker threads for dataset-wide work; default one per core. */
  workers?: number;
  onLog?: (level: 'info' | 'warn', message: string) => void;
  /** Path of the worker script (tests running from compiled sources). */
  workerScript?: string;
}

export interface DatasetJobOptions {
  data?: string;
  /**
   * Use at most this many images: the first N for scan and evaluate, N spread evenly over the
   * dataset for embed.
   */
  limit?: number;
  batchSize?: number;
}

export interface ScanReport extends ScanResult {
  backend: string;
  seconds: number;
  dataset: DatasetInfo;
  /** Files skipped while listing or decoding. */
  skipped: SkippedFile[];
}

export interface EvaluateReport extends EvalResult {
  backend: string;
  seconds: number;
  dataset: DatasetInfo;
  skipped: SkippedFile[];
}

export class EngineClient {
  private readonly pool: WorkerPool;

  constructor(options: EngineClientOptions = {}) {
    this.pool = new WorkerPool({
      backend: options.backend,
      size: options.workers ?? defaultPoolSize(),
      script: options.workerScript,
      onLog: options.onLog,
    });
  }

  get workers(): number {
    return this.pool.size;
  }

  private call<K extends JobName>(op: K, args: JobArgs<K>, options: CallOptions & { worker?: number } = {}): Promise<JobResultOf<K>> {
    return this.pool.run<JobResultOf<K>>(op, args, options);
  }

  summary(model: string, options?: CallOptions): Promise<JobResultOf<'summary'>> {
    // Single-model requests go to worker 0, which then keeps the model loaded for the next one.
    return this.call('summary', { model }, { ...options, worker: 0 });
  }

  /** Theoretical receptive field of every layer (pure metadata, like `summary`). */
  receptiveField(model: string, options?: CallOptions): Promise<JobResultOf<'receptiveField'>> {
    return this.call('receptiveField', { model }, { ...options, worker: 0 });
  }

  activations(args: ActivationsArgs, options?: CallOptions): Promise<JobResultOf<'activations'>> {
    return this.call('activations', args, { ...options, worker: 0 });
  }

  filters(model: string, layers?: string[], options?: CallOptions): Promise<JobResultOf<'filters'>> {
    return this.call('filters', { model, layers }, { ...options, worker: 0 });
  }

  /**
   * Thumbnail of a dataset item for hovers. Runs on the last worker, so it is not queued behind a
   * t-SNE projection, which runs on worker 0.
   */
  async thumbnail(id: string, options?: CallOptions): Promise<string> {
    return (await this.call('thumbnail', { id }, { ...options, worker: this.pool.size - 1 })).uri;
  }

  datasetInfo(model: string, data?: string, options?: CallOptions): Promise<DatasetInfo> {
    return this.call('datasetInfo', { model, data }, { ...options, worker: 0 });
  }

  /** Effective receptive field of one unit (heat map, centre, radii); progress per batch of images. */
  effectiveReceptiveField(args: ErfArgs, options?: CallOptions): Promise<JobResultOf<'effectiveReceptiveField'>> {
    return this.call('effectiveReceptiveField', args, { ...options, worker: 0 });
  }

  /** ERF radii of the centre unit of every spatial layer (or `args.layers`), for the receptive-field table. */
  erfRadiiPerLayer(args: ErfRadiiArgs, options?: CallOptions): Promise<JobResultOf<'erfRadiiPerLayer'>> {
    return this.call('erfRadiiPerLayer', args, { ...options, worker: 0 });
  }

  /** Splits `[0, n)` into at most `parts` contiguous, nearly equal ranges. */
  static shards(n: number, parts: number): [number, number][] {
    const k = Math.max(1, Math.min(parts, n));
    const out: [number, number][] = [];
    for (let i = 0; i < k; i++) {
      const start = Math.floor((i * n) / k);
      const end = Math.floor(((i + 1) * n) / k);
      if (end > start) out.push([start, end]);
    }
    return out;
  }

  private async runSharded<A>(
    op: 'scanShard' | 'evaluateShard' | 'embedShard',
    model: string,
    job: DatasetJobOptions,
    options: CallOptions,
    extraArgs: Record<string, unknown> = {},
    /** With a `limit` below the dataset size: take the images spread evenly, not the first N. */
    spread = false,
  ): Promise<{ info: DatasetInfo; shards: ShardResult<A>[]; seconds: number; backend: string }> {
    const started = Date.now();
    const info = await this.datasetInfo(model, job.data, options);
    const n = job.limit != null ? Math.min(info.size, Math.max(0, Math.floor(job.limit))) : info.size;
    if (n === 0) throw new Error(`${info.path}: no images to process`);
    // Shards split positions of the sample, so the merged result keeps the sample's order.
    const evenSample = spread && n < info.size ? n : undefined;
    const ranges = EngineClient.shards(n, this.pool.size);
    const done = new Array<number>(ranges.length).fill(0);
    const shards = await Promise.all(
      ranges.map(([start, end], i) =>
        this.pool.run<ShardResult<A>>(
          op,
          { ...extraArgs, model, data: info.path, start, end, batchSize: job.batchSize ?? 64, evenSample },
          {
            worker: i,
            signal: options.signal,
            onProgress: (d) => {
              done[i] = d;
              options.onProgress?.(
                done.reduce((a, b) => a + b, 0),
                n,
              );
            },
          },
        ),
      ),
    );
    return { info, shards, seconds: (Date.now() - started) / 1000, backend: shards[0].backend };
  }

  async scan(model: string, job: DatasetJobOptions & { dyingThreshold?: number } = {}, options: CallOptions = {}): Promise<ScanReport> {
    const { info, shards, seconds, backend } = await this.runSharded<ScanAccumulator>('scanShard', model, job, options);
    const result = await this.call(
      'finishScan',
      { model, shards: shards.map((s) => s.accumulator), dyingThreshold: job.dyingThreshold ?? info.dyingThreshold },
      { worker: 0, signal: options.signal },
    );
    return { ...result, backend, seconds, dataset: info, skipped: [...info.skipped, ...shards.flatMap((s) => s.skipped)] };
  }

  async evaluate(model: string, job: DatasetJobOptions = {}, options: CallOptions = {}): Promise<EvaluateReport> {
    const { info, shards, seconds, backend } = await this.runSharded<EvalAccumulator>('evaluateShard', model, job, options, {}, true);
    const result = await this.call(
      'finishEvaluate',
      { shards: shards.map((s) => s.accumulator), classNames: info.classNames },
      { worker: 0, signal: options.signal },
    );
    return { ...result, backend, seconds, dataset: info, skipped: [...info.skipped, ...shards.flatMap((s) => s.skipped)] };
  }

  /**
   * Codes of a layer for the dataset's images (`limit` of them spread evenly over the dataset;
   * sharded over the pool, `onProgress` per image),
   * then their 2-D projection in one worker (`onFrame` while t-SNE / UMAP iterate; `onPhase` for
   * every phase, the codes included).
   */
  async embed(model: string, job: DatasetJobOptions & EmbedOptions = {}, options: CallOptions & EmbedCallOptions = {}): Promise<EmbedReport> {
    checkEmbedOptions(job);
    const { info, shards, seconds: codeSeconds, backend } = await this.runSharded<CodesAccumulator>(
      'embedShard',
      model,
      job,
      {
        signal: options.signal,
        onProgress: (done, total) => {
          options.onProgress?.(done, total, { phase: 'codes' } satisfies EmbedProgressDetail);
          options.onPhase?.('codes', done, total);
        },
      },
      { layer: job.layer },
      true,
    );
    const codes = mergeCodes(shards.map((s) => s.accumulator));
    if (codes.count < 3) throw new Error(`${info.path}: need at least 3 readable images to embed (got ${codes.count})`);
    const { data: _data, limit: _limit, batchSize: _batch, layer: _layer, ...projection } = job;
    const result = await this.call(
      'embedProject',
      { codes: codes.codes, n: codes.count, dims: codes.dims, labels: codes.labels, options: projection },
      {
        worker: 0,
        signal: options.signal,
        onProgress: (done, total, detail) => {
          const d = detail as EmbedProgressDetail | undefined;
          if (!d) return;
          options.onPhase?.(d.phase, done, total);
          if (d.frame) options.onFrame?.(d.frame);
        },
      },
    );
    return {
      method: result.method,
      layer: codes.layer,
      dims: codes.dims,
      points: result.points,
      labels: codes.labels,
      predicted: codes.predicted,
      classNames: info.classNames ? [...info.classNames] : null,
      ids: codes.ids,
      knnAccuracy: result.knnAccuracy,
      trustworthiness: result.trustworthiness,
      trustworthinessSample: result.trustworthinessSample,
      seconds: result.seconds,
      codeSeconds,
      backend,
      dataset: info,
      skipped: [...info.skipped, ...shards.flatMap((s) => s.skipped)],
      qualitySeconds: result.qualitySeconds,
      timings: result.timings,
    };
  }

  /**
   * Transfer learning, before anything is trained: resolved options, classes, split sizes, the
   * layers kept / frozen / trained and their parameter counts. Bad input (data, layer names,
   * an existing target folder) is reported here.
   */
  planTraining(model: string, mode: TrainingMode, options: TrainingOptions, call: CallOptions = {}): Promise<TrainingPlan> {
    return this.call('planTraining', { model, mode, options }, { worker: 0, signal: call.signal });
  }

  /**
   * Trains a new classifier head on the frozen base and saves base + head as a new model folder.
   * The base's features are computed once, sharded over the pool (progress detail
   * `{phase: 'features'}`), then one worker trains the head (`{phase: 'batch'}`, `{phase: 'epoch'}`).
   *
   * Cancelling (`call.signal`) is a STOP, not an abort, once training has started: the job ends at
   * the next batch boundary, and if at least one epoch has finished the best epoch so far is
   * saved and the promise RESOLVES with `cancelled: true`. Cancelled before the first epoch ends
   * (or while the features are computed), nothing is written and it rejects with CancelledError.
   */
  async trainHead(model: string, options: TrainingOptions, call: CallOptions = {}): Promise<TrainingResult> {
    const plan = await this.planTraining(model, 'head', options, call);
    const n = plan.trainImages + plan.validationImages;
    const ranges = EngineClient.shards(n, this.pool.size);
    const done = new Array<number>(ranges.length).fill(0);
    const shards = await Promise.all(
      ranges.map(([start, end], i) =>
        this.pool.run<FeatureShard>(
          'extractFeaturesShard',
          { model, options, start, end },
          {
            worker: i,
            signal: call.signal,
            onProgress: (d) => {
              done[i] = d;
              const sum = done.reduce((a, b) => a + b, 0);
              call.onProgress?.(sum, n, { phase: 'features', done: sum, total: n } satisfies TrainingProgress);
            },
          },
        ),
      ),
    );
    return this.pool.run<TrainingResult>('trainHead', { model, options, shards }, { worker: 0, stop: call.signal, onProgress: call.onProgress });
  }

  /**
   * Fine-tunes the model's top layers (`unfreeze` / `fromLayer`; BatchNormalization stays frozen
   * and in inference mode) and saves the result as a new model folder; `before` is the source
   * model on the same validation split. Cancelling works as for `trainHead`.
   *
   * With two or more workers on a single-threaded backend (wasm, cpu) and batches of at least
   * DATA_PARALLEL_MIN_BATCH, each training batch is split between worker 0, which runs the loop, and worker 1 (training/dataParallel.ts);
   * the two talk over their own MessageChannel, so per-step traffic never crosses this thread.
   */
  async fineTune(model: string, options: TrainingOptions, call: CallOptions = {}): Promise<TrainingResult> {
    const plan = await this.planTraining(model, 'fine-tune', options, call);
    const lead = { worker: 0, stop: call.signal, onProgress: call.onProgress };
    if (!useDataParallel(plan.options.batchSize, this.pool.size, plan.backend)) return this.pool.run<TrainingResult>('fineTune', { model, options }, lead);
    const { port1, port2 } = new MessageChannel();
    const peerCancel = new AbortController();
    const peer = this.pool.run('gradientPeer', { model, port: port2 }, { worker: 1, signal: peerCancel.signal, transfer: [port2] });
    try {
      return await this.pool.run<TrainingResult>('fineTune', { model, options, peer: port1 }, { ...lead, transfer: [port1] });
    } finally {
      // The lead closes the channel when it ends, which ends the peer; cancelling it as well
      // covers a lead that never got to its port (e.g. its worker died). The peer's own failures
      // reach the caller through the lead, so its outcome is only awaited: no orphan job.
      peerCancel.abort();
      await peer.catch(() => undefined);
    }
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
