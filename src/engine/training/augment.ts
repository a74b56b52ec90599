/**
 * Data augmentation for fine-tuning, on the preprocessed NHWC batch before it becomes a tensor:
 * random horizontal flips (half of the images) and random shifts of up to `shift` × the height /
 * width, filling the uncovered border with the nearest edge pixel (Keras ImageDataGenerator's
 * default `fill_mode='nearest'`; a constant would be "black" only for some preprocessings).
 * Seeded, so a run is reproducible; applied in place.
 */
import type { InputGeometry } from '../model/inspectableModel';
import type { Rng } from '../random';

export interface Augmentation {
  flip: boolean;
  shift: number;
}

export function isIdentity(a: Augmentation): boolean {
  return !a.flip && !(a.shift > 0);
}

/** Augments `count` images of `images` in place. */
export function augmentBatch(images: Float32Array, count: number, geometry: InputGeometry, a: Augmentation, random: Rng): void {
  if (isIdentity(a)) return;
  const { height: h, width: w, channels: c } = geometry;
  const per = h * w * c;
  const src = new Float32Array(per);
  const maxDy = Math.floor(a.shift * h);
  const maxDx = Math.floor(a.shift * w);
  for (let n = 0; n < count; n++) {
    const flip = a.flip && random() < 0.5;
    // Uniform integer shifts in [-max, max].
    const dy = maxDy > 0 ? Math.floor(random() * (2 * maxDy + 1)) - maxDy : 0;
    const dx = maxDx > 0 ? Math.floor(random() * (2 * maxDx + 1)) - maxDx : 0;
    if (!flip && dy === 0 && dx === 0) continue;
    const img = images.subarray(n * per, (n + 1) * per);
    src.set(img);
    for (let y = 0; y < h; y++) {
      const sy = Math.min(h - 1, Math.max(0, y - dy));
      for (let x = 0; x < w; x++) {
        let sx = Math.min(w - 1, Math.max(0, x - dx));
        if (flip) sx = w - 1 - sx;
        const o = (y * w + x) * c;
        const i = (sy * w + sx) * c;
        for (let k = 0; k < c; k++) img[o + k] = src[i + k];
      }
    }
  }
}
