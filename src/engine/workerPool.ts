/**
 * A pool of engine worker threads. The wasm backend is single-threaded in Node, so the only way
 * to use more than one core is more workers: dataset-wide jobs are split into shards, one per
 * worker. Each worker keeps its own loaded models, so a job can be pinned to a worker.
 *
 * This module never imports TF.js: it runs on the extension host's main thread.
 */
import * as os from 'os';
import * as path from 'path';
import { Worker, type TransferListItem } from 'worker_threads';
import type { BackendPreference } from './backendNames';
import type { FromWorker, JobRequest, WorkerInit } from './workerMessages';

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, detail?: unknown) => void;
  /** Index of the worker to run on (modulo the pool size); default: the least busy. */
  worker?: number;
  /**
   * Cooperative stop (see `JobStop`): when aborted, the job is asked to finish early and its
   * result still resolves the promise. Only jobs that read `ctx.stop` react to it.
   */
  stop?: AbortSignal;
  /**
   * Objects in `args` to transfer rather than copy: a `MessagePort` (jobs that talk to each
   * other directly, e.g. data-parallel fine-tuning) must be listed here to reach the worker.
   */
  transfer?: readonly TransferListItem[];
}

export class CancelledError extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'CancelledError';
  }
}

/** An error raised inside a worker, carried back with its original stack for `--verbose`. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (done: number, total: number, detail?: unknown) => void;
  worker: PoolWorker;
}

interface PoolWorker {
  thread: Worker;
  busy: number;
}

export interface WorkerPoolOptions {
  backend?: BackendPreference;
  /** Number of workers; default one per core. */
  size?: number;
  /** Path of the worker script; default `worker.js` beside this module (or bundle). */
  script?: string;
  /** Warnings and information from the workers (backend fallback and the like). */
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

export function defaultPoolSize(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, n);
}

export class WorkerPool {
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? defaultPoolSize()));
  }

  private spawn(index: number): PoolWorker {
    const script = this.options.script ?? path.join(__dirname, 'worker.js');
    const init: WorkerInit = { backend: this.options.backend ?? 'auto' };
    const thread = new Worker(script, { workerData: init });
    const pw: PoolWorker = { thread, busy: 0 };
    thread.on('message', (msg: FromWorker) => this.onMessage(msg));
    thread.on('error', (err) => this.failWorker(pw, index, err));
    thread.on('exit', (code) => {
      if (!this.closed) this.failWorker(pw, index, new Error(`engine worker exited with code ${code}`));
    });
    // Workers must not keep a CLI process alive once its work is done.
    thread.unref();
    return pw;
  }

  private worker(index: number): PoolWorker {
    if (this.closed) throw new Error('The engine has been shut down');
    const i = index % this.size;
    if (!this.workers[i]) this.workers[i] = this.spawn(i);
    return this.workers[i];
  }

  private leastBusy(): number {
    let best = 0;
    let bestBusy = Infinity;
    for (let i = 0; i < this.size; i++) {
      const busy = this.workers[i]?.busy ?? 0;
      if (busy < bestBusy) {
        best = i;
        bestBusy = busy;
      }
    }
    return best;
  }

  private onMessage(msg: FromWorker): void {
    if (msg.kind === 'log') {
      this.options.onLog?.(msg.level, msg.message);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.kind === 'progress') {
      p.onProgress?.(msg.done, msg.total, msg.detail);
      return;
    }
    this.pending.delete(msg.id);
    p.worker.busy--;
    if (this.pending.size === 0) for (const w of this.workers) w?.thread.unref();
    if (msg.kind === 'result') p.resolve(msg.value);
    else p.reject(msg.cancelled ? new CancelledError() : new EngineError(msg.message, msg.stack));
  }

  /** A crashed worker (e.g. out of memory) fails its jobs and is replaced on next use. */
  private failWorker(pw: PoolWorker, index: number, err: Error): void {
    if (this.workers[index] !== pw) return;
    delete this.workers[index];
    for (const [id, p] of this.pending) {
      if (p.worker === pw) {
        this.pending.delete(id);
        p.reject(new EngineError(`The engine worker stopped: ${err.message}`));
      }
    }
  }

  /** Jobs sent and not yet settled (tests check that related jobs all ended). */
  get jobsInFlight(): number {
    return this.pending.size;
  }

  run<T>(op: string, args: unknown, options: RunOptions = {}): Promise<T> {
    if (options.signal?.aborted) return Promise.reject(new CancelledError());
    const pw = this.worker(options.worker ?? this.leastBusy());
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      pw.busy++;
      // Keep the process alive while a job is outstanding (workers are unref'd when idle).
      pw.thread.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: options.onProgress, worker: pw });
      const request: JobRequest = { kind: 'run', id, op, args };
      pw.thread.postMessage(request, options.transfer);
      options.signal?.addEventListener(
        'abort',
        () => {
          if (this.pending.has(id)) pw.thread.postMessage({ kind: 'cancel', id });
        },
        { once: true },
      );
      const stop = (): void => {
        if (this.pending.has(id)) pw.thread.postMessage({ kind: 'stop', id });
      };
      if (options.stop?.aborted) stop();
      else options.stop?.addEventListener('abort', stop, { once: true });
    });
  }

  async dispose(): Promise<void> {
    this.closed = true;
    for (const [, p] of this.pending) p.reject(new CancelledError());
    this.pending.clear();
    await Promise.all(this.workers.filter(Boolean).map((w) => w.thread.terminate()));
    this.workers.length = 0;
  }
}
