/**
 * Dead units after each epoch, on the validation images, with the definition of the dead-filter
 * scan (`analyses/scan.ts`): a unit of a ReLU conv/dense layer is dead when its output is never
 * positive. Fine-tuning scans the whole model with the scan accumulator; head training combines
 * the frozen base's scan (made once with the features) with the head's hidden layer, evaluated on
 * the cached validation features.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from '../model/inspectableModel';
import { accumulateBatch, createScanAccumulator, finishScan, type ScanResult } from '../analyses/scan';

/** Dead counts of the layers where "dead" applies (ReLU-like activations). */
export function deadCounts(scan: ScanResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of scan.layers) if (l.deadApplicable) out[l.name] = l.dead.length;
  return out;
}

/** Scans `model` over `images` (`count` preprocessed images) in batches. */
export async function scanImages(model: InspectableModel, images: (rows: Int32Array) => Float32Array, count: number, batchSize: number): Promise<ScanResult> {
  const acc = createScanAccumulator(model);
  for (let s = 0; s < count; s += batchSize) {
    const rows = Int32Array.from({ length: Math.min(count, s + batchSize) - s }, (_, k) => s + k);
    await accumulateBatch(acc, model, { images: images(rows), count: rows.length, ids: [], skipped: [] });
  }
  return finishScan(acc);
}

/**
 * Dead units of a ReLU Dense layer of the head: `upTo(x)` computes that layer's output from the
 * features `x`; units whose maximum over all validation rows is ≤ 0 are dead.
 */
export function headLayerDead(upTo: (x: tf.Tensor) => tf.Tensor, validation: (rows: Int32Array) => tf.Tensor, count: number, batchSize: number): number {
  let max: Float32Array | undefined;
  for (let s = 0; s < count; s += batchSize) {
    const rows = Int32Array.from({ length: Math.min(count, s + batchSize) - s }, (_, k) => s + k);
    const x = validation(rows);
    try {
      const m = tf.tidy(() => tf.max(upTo(x), 0));
      const v = m.dataSync() as Float32Array;
      m.dispose();
      if (!max) max = Float32Array.from(v);
      else for (let i = 0; i < v.length; i++) if (v[i] > max[i]) max[i] = v[i];
    } finally {
      x.dispose();
    }
  }
  let dead = 0;
  for (const m of max ?? []) if (!(m > 0)) dead++;
  return dead;
}

