/**
 * Tensors ⇄ one Float32Array, for the weights, gradients and images data-parallel fine-tuning
 * sends between its two workers. The arrays are transferred and sent back, so the same few buffers
 * travel to and fro for the whole run: a fresh 0.9 MB array costs ~2.5 ms here in page faults
 * (~20 µs per 4 KB page on this VM, measured), reusing one ~0.02 ms, and a split step would
 * otherwise allocate four of them.
 *
 * For the same reason values are read from the wasm heap in place rather than with `dataSync`
 * (which allocates a copy); other backends take the `dataSync` path. Tensors made from a view are
 * copied into the wasm heap at once, so the view's buffer can be reused or transferred right
 * after; other backends may keep the array itself, so they get a copy.
 */
import * as tf from '@tensorflow/tfjs';

export function totalSize(tensors: readonly { size: number }[]): number {
  return tensors.reduce((a, t) => a + t.size, 0);
}

interface WasmHeap {
  dataIdMap: { get(id: unknown): { memoryOffset: number | null } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

function wasmHeap(): WasmHeap | undefined {
  return tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmHeap) : undefined;
}

/** Values `[start, start + count)` of `t` (float32, flattened) into `out` at `at`. */
export function copyValues(t: tf.Tensor, out: Float32Array, at = 0, start = 0, count = t.size - start): void {
  if (t.dtype !== 'float32') throw new Error(`copyValues: expected a float32 tensor, got ${t.dtype}`);
  if (start < 0 || count < 0 || start + count > t.size || at + count > out.length) {
    throw new Error(`copyValues: [${start}, ${start + count}) of ${t.size} values into [${at}, ${at + count}) of ${out.length}`);
  }
  const heap = wasmHeap();
  const offset = heap?.dataIdMap.get(t.dataId)?.memoryOffset;
  if (heap && offset != null) out.set(new Float32Array(heap.wasm.HEAPU8.buffer, offset + 4 * start, count), at);
  else out.set((t.dataSync() as Float32Array).subarray(start, start + count), at);
}

/** The tensors' values, concatenated in order, into `out` (which must hold exactly that many). */
export function concatInto(tensors: readonly tf.Tensor[], out: Float32Array): Float32Array {
  if (out.length !== totalSize(tensors)) throw new Error(`concatInto: ${totalSize(tensors)} values do not fit ${out.length}`);
  let at = 0;
  for (const t of tensors) {
    copyValues(t, out, at);
    at += t.size;
  }
  return out;
}

/** A new tensor of `shape` from `values`, which the caller may reuse afterwards. */
export function tensorFrom(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(wasmHeap() ? values : values.slice(), shape, 'float32');
}

/** New tensors with the shapes of `like`, read in order from `values`; the caller disposes them. */
export function splitValues(values: Float32Array, like: readonly { shape: number[]; size: number }[]): tf.Tensor[] {
  if (values.length !== totalSize(like)) throw new Error(`expected ${totalSize(like)} values for ${like.length} tensors, got ${values.length}`);
  let offset = 0;
  return like.map((t) => {
    const tensor = tensorFrom(values.subarray(offset, offset + t.size), t.shape);
    offset += t.size;
    return tensor;
  });
}
