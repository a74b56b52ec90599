/**
 * Entry point of an engine worker thread: initialises the backend once, then runs jobs from
 * `jobs.ts` as the client asks, reporting progress and honouring cancellation between batches.
 */
import { parentPort, workerData } from 'worker_threads';
import { initBackend } from './backend';
import { JOBS, type JobContext } from './jobs';
import { runHoldingModels } from './modelCache';
import type { FromWorker, ToWorker, WorkerInit } from './workerMessages';
import { transferablesOf } from './workerMessages';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;
const controllers = new Map<number, AbortController>();
const stops = new Map<number, AbortController>();

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

const backendReady = initBackend(init.backend).then((info) => {
  if (info.warning) post({ kind: 'log', level: 'warn', message: info.warning });
  return info;
});
// A failed backend start is reported to each job that awaits it; mark it handled here so the
// worker does not die of an unhandled rejection before the first job arrives.
backendReady.catch(() => undefined);

async function runJob(id: number, op: string, args: unknown): Promise<void> {
  const controller = new AbortController();
  controllers.set(id, controller);
  const stop = new AbortController();
  stops.set(id, stop);
  try {
    const job = (JOBS as Record<string, (a: unknown, c: JobContext) => Promise<unknown>>)[op];
    if (!job) throw new Error(`Unknown engine operation "${op}"`);
    const backend = await backendReady;
    const ctx: JobContext = {
      signal: controller.signal,
      stop: stop.signal,
      backend: backend.name,
      progress: (done, total, detail) =>
        detail === undefined ? post({ kind: 'progress', id, done, total }) : post({ kind: 'progress', id, done, total, detail }, transferablesOf(detail)),
    };
    // Cached models this job takes stay loaded until it ends, even if evicted meanwhile.
    const value = await runHoldingModels(() => job(args, ctx));
    if (controller.signal.aborted) throw new Error('Cancelled');
    post({ kind: 'result', id, value }, transferablesOf(value));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    // A job that gives up after a stop request (nothing to return yet) counts as cancelled too.
    const cancelled = controller.signal.aborted || (stop.signal.aborted && e.message === 'Cancelled');
    post({ kind: 'error', id, message: e.message, stack: e.stack, cancelled });
  } finally {
    controllers.delete(id);
    stops.delete(id);
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'cancel') controllers.get(msg.id)?.abort();
  else if (msg.kind === 'stop') stops.get(msg.id)?.abort();
  else void runJob(msg.id, msg.op, msg.args);
});
