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
  JobArgs,
  JobName,
  JobResultOf,
  ShardResult,
} from './jobs';
import type { SkippedFile } from './io/datasets/types';
import type { ScanAccumulator, ScanResult } from './analyses/scan';
import type { EvalAccumulator, EvalResult } from './analyses/evaluate';
import { WorkerPool, defaultPoolSize } from './workerPool';

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
  /** Use at most this many images (the first N). */
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

  activations(args: ActivationsArgs, options?: CallOptions): Promise<JobResultOf<'activations'>> {
    return this.call('activations', args, { ...options, worker: 0 });
  }

  filters(model: string, layers?: string[], options?: CallOptions): Promise<JobResultOf<'filters'>> {
    return this.call('filters', { model, layers }, { ...options, worker: 0 });
  }

  datasetInfo(model: string, data?: string, options?: CallOptions): Promise<DatasetInfo> {
    return this.call('datasetInfo', { model, data }, { ...options, worker: 0 });
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
    op: 'scanShard' | 'evaluateShard',
    model: string,
    job: DatasetJobOptions,
    options: CallOptions,
  ): Promise<{ info: DatasetInfo; shards: ShardResult<A>[]; seconds: number; backend: string }> {
    const started = Date.now();
    const info = await this.datasetInfo(model, job.data, options);
    const n = job.limit != null ? Math.min(info.size, Math.max(0, Math.floor(job.limit))) : info.size;
    if (n === 0) throw new Error(`${info.path}: no images to process`);
    const ranges = EngineClient.shards(n, this.pool.size);
    const done = new Array<number>(ranges.length).fill(0);
    const shards = await Promise.all(
      ranges.map(([start, end], i) =>
        this.pool.run<ShardResult<A>>(
          op,
          { model, data: info.path, start, end, batchSize: job.batchSize ?? 64 },
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
    const { info, shards, seconds, backend } = await this.runSharded<EvalAccumulator>('evaluateShard', model, job, options);
    const result = await this.call(
      'finishEvaluate',
      { shards: shards.map((s) => s.accumulator), classNames: info.classNames },
      { worker: 0, signal: options.signal },
    );
    return { ...result, backend, seconds, dataset: info, skipped: [...info.skipped, ...shards.flatMap((s) => s.skipped)] };
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
