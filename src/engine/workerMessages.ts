/**
 * Messages between the engine's client (extension host or CLI main thread) and its worker
 * threads. Kept free of TF.js imports so the client side can import it without loading tfjs.
 */
import type { BackendPreference } from './backendNames';

export interface WorkerInit {
  backend: BackendPreference;
}

export interface JobRequest {
  kind: 'run';
  id: number;
  op: string;
  /** May hold transferred objects, e.g. a `MessagePort` to another worker's job. */
  args: unknown;
}

export interface JobCancel {
  kind: 'cancel';
  id: number;
}

/**
 * Cooperative stop: the job finishes at its next safe point and returns a (partial) result, e.g.
 * a training job saves its best epoch so far. Unlike `cancel`, the result is not thrown away.
 */
export interface JobStop {
  kind: 'stop';
  id: number;
}

export type ToWorker = JobRequest | JobCancel | JobStop;

export interface JobProgress {
  kind: 'progress';
  id: number;
  done: number;
  total: number;
  /**
   * Optional intermediate result (a t-SNE frame, an epoch's metrics). Its ArrayBuffers are
   * transferred, so the worker must not reuse them after reporting.
   */
  detail?: unknown;
}

export interface JobResult {
  kind: 'result';
  id: number;
  value: unknown;
}

export interface JobError {
  kind: 'error';
  id: number;
  message: string;
  stack?: string;
  /** True when the job stopped because it was cancelled. */
  cancelled?: boolean;
}

export interface WorkerLog {
  kind: 'log';
  level: 'info' | 'warn';
  message: string;
}

export type FromWorker = JobProgress | JobResult | JobError | WorkerLog;

/**
 * Collects the ArrayBuffers inside a result so `postMessage` can transfer them (feature maps are
 * megabytes; copying them through structured clone twice would double the cost).
 */
export function transferablesOf(value: unknown, out: ArrayBuffer[] = [], seen = new Set<unknown>()): ArrayBuffer[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    // Only transfer buffers that the view covers entirely; a shared pool buffer must be copied.
    if (buf instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buf.byteLength && !out.includes(buf)) {
      out.push(buf);
    }
    return out;
  }
  if (Array.isArray(value)) {
    for (const v of value) transferablesOf(v, out, seen);
    return out;
  }
  for (const v of Object.values(value as Record<string, unknown>)) transferablesOf(v, out, seen);
  return out;
}
