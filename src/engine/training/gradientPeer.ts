/**
 * The peer side of data-parallel fine-tuning (the lead side is dataParallel.ts): a job on a
 * second worker that keeps a replica of the model being fine-tuned and, for each split batch,
 * computes the gradients of the half the lead sends it. It talks only to the lead, over the
 * MessagePort it was started with, so the per-step traffic never goes through the main thread.
 *
 * The replica is the same model file with the same trainable layers (the lead's `init` names
 * them; the variable shapes are checked), and before every half batch it takes the lead's current
 * weights from the message, so it cannot drift from the lead: frozen layers are identical because
 * both loaded the same file and neither changes them, trained ones because they are overwritten.
 * Dropout and the like run as `fineTuneTrainingPredict` says, the same function the lead uses.
 *
 * The job ends (resolves) when the lead says `end` or closes its port, and rejects when it is
 * cancelled (the client cancels it after the lead's job settles, whatever happened to the lead).
 * Any failure is first reported to the lead, which fails the fine-tuning with the message.
 */
import type { MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { loadModel } from '../io/models';
import type { InspectableModel } from '../model/inspectableModel';
import { fineTuneTrainingPredict } from './fineTunePredict';
import { batchGradients } from './batchGradients';
import { concatInto, splitValues, tensorFrom } from './flatArrays';
import type { FromPeer, PeerGradients, PeerInit, PeerStep, ToPeer } from './dataParallelMessages';

export interface GradientPeerArgs {
  /** The model file the lead fine-tunes (the source model, before any training). */
  model: string;
  /** The peer's end of the channel to the lead (transferred with the job). */
  port: MessagePort;
}

export interface GradientPeerResult {
  /** Half batches computed. */
  steps: number;
}

interface Replica {
  predict: (x: tf.Tensor) => tf.Tensor;
  variables: tf.Variable[];
  classes: number;
}

function replicaOf(model: InspectableModel, init: PeerInit): Replica {
  const lm = model.layersModel;
  if (!lm) throw new Error(`${model.path}: is not a Layers model, so it cannot be fine-tuned`);
  const names = new Set(init.trainableLayers);
  for (const layer of lm.layers) layer.trainable = names.has(layer.name);
  const variables = lm.trainableWeights.map((w) => w.read() as tf.Variable);
  const shapes = variables.map((v) => v.shape.join('×')).join(', ');
  const expected = init.shapes.map((s) => s.join('×')).join(', ');
  if (shapes !== expected) {
    throw new Error(`${model.path}: the replica's trained variables (${shapes}) differ from the lead's (${expected})`);
  }
  return { predict: fineTuneTrainingPredict(lm), variables, classes: init.classes };
}

function computeHalf(replica: Replica, step: PeerStep): PeerGradients {
  const weights = splitValues(step.weights, replica.variables);
  replica.variables.forEach((v, i) => v.assign(weights[i]));
  tf.dispose(weights);
  const x = tensorFrom(step.images, step.shape);
  try {
    const g = batchGradients(replica.predict, replica.variables, replica.classes, x, step.labels);
    try {
      // The weights' buffer carries the gradients back (same size, same order).
      return { kind: 'gradients', loss: g.loss, hits: g.hits, grads: concatInto(g.grads, step.weights), images: step.images };
    } finally {
      tf.dispose(g.grads);
    }
  } finally {
    x.dispose();
  }
}

/**
 * Serves the lead on `port` with the model `load` gives (loading starts at once, while the lead
 * decodes its images). Exported apart from the job so tests can run both sides in one thread.
 */
export function serveGradients(port: MessagePort, load: () => Promise<InspectableModel>, signal: AbortSignal): Promise<GradientPeerResult> {
  const model = load();
  // Disposed when the job ends; a failed load is reported at the first message instead.
  model.catch(() => undefined);
  return new Promise<GradientPeerResult>((resolve, reject) => {
    let replica: Replica | undefined;
    let steps = 0;
    let finished = false;
    let queue = Promise.resolve();
    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      port.removeAllListeners('message');
      port.close();
      model.then((m) => m.dispose(), () => undefined);
      if (err) reject(err);
      else resolve({ steps });
    };
    const onAbort = (): void => finish(new Error('Cancelled'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    // Messages are handled one at a time, in order (the first ones may wait for the model).
    port.on('message', (msg: ToPeer) => {
      queue = queue
        .then(async () => {
          if (finished) return;
          if (msg.kind === 'end') return finish();
          const m = await model;
          if (finished) return;
          if (msg.kind === 'init') {
            replica = replicaOf(m, msg);
            return;
          }
          if (!replica) throw new Error('the lead sent a batch before saying which layers train');
          const reply = computeHalf(replica, msg);
          steps++;
          port.postMessage(reply, [reply.grads.buffer, reply.images.buffer] as ArrayBuffer[]);
        })
        .catch((e: unknown) => {
          const err = e instanceof Error ? e : new Error(String(e));
          if (!finished) port.postMessage({ kind: 'error', message: err.message } satisfies FromPeer);
          finish(err);
        });
    });
    // The lead closed its end (or its worker died): nothing more will come.
    port.on('close', () => finish());
  });
}

export function gradientPeerJob(args: GradientPeerArgs, ctx: { signal: AbortSignal }): Promise<GradientPeerResult> {
  return serveGradients(args.port, () => loadModel(args.model), ctx.signal);
}
