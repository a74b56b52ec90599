/**
 * The lead side of data-parallel fine-tuning (the peer side is gradientPeer.ts). The wasm backend
 * runs one thread per worker in Node, so a fine-tuning step in one worker uses one core; with a
 * pool of two or more workers, each training batch is split in two: the lead (the worker running
 * `trainLoop`) posts the second half to a peer worker, computes the first half's gradients while
 * the peer computes the second's, then sums them weighted by the halves' sizes, so the loop's
 * Adam step sees the full batch's mean-loss gradient (equal up to float rounding; the unit test
 * checks 1e-5 relative). Augmentation happens on the lead, on the whole batch, before it is
 * split, so both halves come from the loop's one seeded stream, as in a single-worker run.
 *
 * Keeping the replica identical: every split step carries the lead's current trained weights
 * (one concatenated, transferred Float32Array; 0.9 MB for the sample CNN with every layer
 * trained), which the peer assigns before computing. The alternative, the peer applying the same
 * Adam update from the summed gradients, sends as much data back (the sum) and runs Adam twice,
 * and two Adam states could drift apart if anything ever differed; overwriting cannot drift.
 *
 * Small batches stay on the lead (DATA_PARALLEL_MIN_BATCH, dataParallelMessages.ts): the split
 * step has a fixed cost (weights out, peer upload, gradients back and summed) that a small batch
 * does not repay. The last, partial batch of an epoch may fall under it, which is fine: the peer
 * gets the weights again with the next split batch.
 *
 * Measured (bench/training.ts `step`, 2-core VM, quiet: other processes < 0.05 cores; medians of
 * 7 repetitions of 5 steps, alternated with PyTorch; sample CNN, batch 64, every layer trained):
 *     one worker (`minimize`) 51.2 ms   data-parallel 37.3 ms   PyTorch (2 threads) 12.0 ms
 *   → 3.1× PyTorch instead of 4.3×. A lone half batch takes ~25 ms; two running at once take
 *   ~10-15 % longer each (shared caches and memory bandwidth), and Adam + the sum add ~2 ms after
 *   both halves, so ~30-37 ms is what a two-way split can give here.
 * ms per step by batch size (`dataParallelByBatch`, 3 repetitions; plus a separate profile of
 * 15-step runs, which agreed):
 *     batch               8      12     16     24     32     64
 *     all layers   one  17.8   20.9   17.6   22.6   28.5   51.6
 *                  two  24.5   29.0   17.8   19.6   22.0   32.4
 *     top 2 layers one   6.2    5.7    6.8    8.4    9.5   15.9
 *                  two   6.8    6.9    7.1   11.4*   8.6   11.3
 *   (* the profile gave 6.4-6.9 vs 7.6 for one worker at 24). Hence DATA_PARALLEL_MIN_BATCH = 24.
 *   The split costs when the machine is busy: with another process holding one core, the two
 *   halves share the remaining one and a step took ~80 ms instead of ~68 ms.
 */
import type { MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { batchGradients, type BatchGradients } from './batchGradients';
import { concatInto, copyValues, splitValues, totalSize } from './flatArrays';
import { DATA_PARALLEL_MIN_BATCH, leadShare, type FromPeer, type PeerGradients, type ToPeer } from './dataParallelMessages';

export interface DataParallelSpec {
  /** The training forward pass (fineTuneTrainingPredict), the same on both sides. */
  predict(x: tf.Tensor): tf.Tensor;
  /** The trained variables, in the loop's order. */
  variables: tf.Variable[];
  classes: number;
  /** Names of the trainable layers, for the peer's replica. */
  trainableLayers: string[];
  /** Batches below this size are computed by the lead alone (default DATA_PARALLEL_MIN_BATCH). */
  minBatch?: number;
}

const PREFIX = 'data-parallel fine-tuning';

export class DataParallelLead {
  private waiting?: { resolve: (g: PeerGradients) => void; reject: (e: Error) => void };
  private failure?: Error;
  private closed = false;
  /** Batches split with the peer so far. */
  splitBatches = 0;
  /** Buffers lent to the peer with each step and returned with its answer (flatArrays.ts). */
  private flat?: Float32Array;
  private images?: ArrayBuffer;

  constructor(
    private readonly port: MessagePort,
    private readonly spec: DataParallelSpec,
  ) {
    port.on('message', (msg: FromPeer) => this.onMessage(msg));
    port.on('close', () => {
      if (!this.closed) this.fail(new Error(`${PREFIX}: the peer worker stopped before the training ended`));
    });
    this.post({ kind: 'init', trainableLayers: spec.trainableLayers, shapes: spec.variables.map((v) => v.shape), classes: spec.classes });
  }

  private post(msg: ToPeer, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(msg, transfer);
  }

  private onMessage(msg: FromPeer): void {
    if (msg.kind === 'error') {
      this.fail(new Error(`${PREFIX}: the peer worker failed: ${msg.message}`));
      return;
    }
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(msg);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failure);
  }

  /** The `trainLoop` hook: the batch's mean-loss gradients, half of them computed by the peer. */
  async gradients(x: tf.Tensor, labels: Int32Array): Promise<BatchGradients> {
    const { predict, variables, classes } = this.spec;
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`${PREFIX}: used after close`);
    const n = labels.length;
    if (n < (this.spec.minBatch ?? DATA_PARALLEL_MIN_BATCH)) return batchGradients(predict, variables, classes, x, labels);
    const h = leadShare(n);
    const perImage = x.size / n;
    // Post first, so the peer computes its half while this thread computes its own.
    const reply = new Promise<PeerGradients>((resolve, reject) => (this.waiting = { resolve, reject }));
    const weights = concatInto(variables, this.flat ?? new Float32Array(totalSize(variables)));
    const count = (n - h) * perImage;
    const buffer = this.images && this.images.byteLength >= 4 * count ? this.images : new ArrayBuffer(4 * count);
    const images = new Float32Array(buffer, 0, count);
    copyValues(x, images, 0, h * perImage, count);
    const peerLabels = labels.slice(h);
    this.flat = undefined;
    this.images = undefined;
    this.post({ kind: 'step', weights, images, shape: [n - h, ...x.shape.slice(1)], labels: peerLabels }, [weights.buffer, buffer, peerLabels.buffer] as ArrayBuffer[]);
    let own: BatchGradients;
    const half = tf.slice(x, 0, h);
    try {
      own = batchGradients(predict, variables, classes, half, labels.subarray(0, h));
    } catch (e) {
      // The peer's answer (or failure) still arrives; nobody waits for it.
      reply.catch(() => undefined);
      throw e;
    } finally {
      half.dispose();
    }
    let peer: PeerGradients;
    try {
      peer = await reply;
    } catch (e) {
      tf.dispose(own.grads);
      throw e;
    }
    this.splitBatches++;
    this.images = peer.images.buffer as ArrayBuffer;
    // Mean over the batch = (h · mean over the lead's half + (n − h) · mean over the peer's) / n.
    const a = h / n;
    const b = (n - h) / n;
    const grads = tf.tidy(() => {
      const theirs = splitValues(peer.grads, variables);
      return own.grads.map((g, i) => tf.add(tf.mul(g, a), tf.mul(theirs[i], b)));
    });
    tf.dispose(own.grads);
    this.flat = peer.grads;
    return { loss: a * own.loss + b * peer.loss, hits: own.hits + peer.hits, grads };
  }

  /** Ends the peer's job (it resolves) and releases the channel; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.reject(new Error(`${PREFIX}: closed`));
    this.waiting = undefined;
    try {
      this.post({ kind: 'end' });
    } finally {
      this.port.close();
    }
  }
}
