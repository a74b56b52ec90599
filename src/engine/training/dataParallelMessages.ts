/**
 * What the lead of a data-parallel fine-tuning (dataParallel.ts) and its peer (gradientPeer.ts)
 * say to each other over their private MessagePort, and the rules both sides and the client
 * share: when a batch is split, and how. Free of TF.js imports, so the client (extension host
 * main thread) can read the threshold without loading TF.js.
 *
 * Arrays are transferred, not copied, and the big ones travel back with the answer, so the same
 * buffers serve the whole run (see flatArrays.ts for why that matters).
 */

/**
 * Batches smaller than this are computed by the lead alone: below it the fixed cost of a split
 * step (the peer's weight upload, messages, summing the two gradient sets, two half-size kernel
 * launches instead of one) eats the gain of halving the batch. Measured on the sample CNN (the
 * table at the top of dataParallel.ts): with every layer trained the split pays from 16 images,
 * with only the top two (the default) from 24; 24 is the size from which it pays in both.
 */
export const DATA_PARALLEL_MIN_BATCH = 24;

/**
 * Backends that compute on one thread per worker, where a second worker adds a core. tfjs-node
 * (`tensorflow`) already spreads one op over every core: a split would only add its fixed cost.
 */
const SINGLE_THREADED_BACKENDS = new Set(['wasm', 'cpu']);

/**
 * True when a fine-tuning with this batch size on a pool of `workers` running `backend` should
 * use a peer.
 */
export function useDataParallel(batchSize: number, workers: number, backend: string | undefined): boolean {
  return workers >= 2 && batchSize >= DATA_PARALLEL_MIN_BATCH && backend !== undefined && SINGLE_THREADED_BACKENDS.has(backend);
}

/** Images of an `n`-image batch the lead computes itself; the peer gets the rest. */
export function leadShare(n: number): number {
  return Math.floor(n / 2);
}

/** Lead → peer, first: which layers train, and the shapes of their variables (checked). */
export interface PeerInit {
  kind: 'init';
  trainableLayers: string[];
  shapes: number[][];
  classes: number;
}

/** Lead → peer, once per split batch: the current weights and the peer's half of the batch. */
export interface PeerStep {
  kind: 'step';
  /** Every trained variable, concatenated in the order of `PeerInit.shapes`; comes back as `gradients`. */
  weights: Float32Array;
  /** NHWC images of `shape`, already augmented by the lead; its buffer comes back for reuse. */
  images: Float32Array;
  shape: number[];
  labels: Int32Array;
}

/** Lead → peer: training is over (or abandoned); the peer's job ends. */
export interface PeerEnd {
  kind: 'end';
}

export type ToPeer = PeerInit | PeerStep | PeerEnd;

/** Peer → lead: the half batch's mean loss, hits, and gradients, in the buffers the step came in. */
export interface PeerGradients {
  kind: 'gradients';
  loss: number;
  hits: number;
  /** Concatenated like the weights, in the step's `weights` buffer. */
  grads: Float32Array;
  /** The step's `images`, returned so the lead reuses the buffer. */
  images: Float32Array;
}

/** Peer → lead: the peer failed; the lead fails the fine-tuning with this message. */
export interface PeerFailure {
  kind: 'error';
  message: string;
}

export type FromPeer = PeerGradients | PeerFailure;
