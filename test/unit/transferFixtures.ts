/**
 * Data for the transfer-learning tests: labelled PNG class folders written into a temporary
 * folder from the bundled Fashion-MNIST test set (samples/data/t10k-*.gz, IDX), optionally with
 * a pixel transform (a shifted distribution). Images are taken in test-set order, so the same
 * arguments always give the same files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { readIdxFile } from '../../src/engine/io/datasets/idx';

export const ROOT = path.resolve(__dirname, '../../..');
export const SAMPLES = path.join(ROOT, 'samples');
export const CLASS_FOLDERS = ['0_T-shirt_top', '1_Trouser', '2_Pullover', '3_Dress', '4_Coat', '5_Sandal', '6_Shirt', '7_Sneaker', '8_Bag', '9_Ankle_boot'];

let cache: { images: Uint8Array; labels: Uint8Array } | undefined;

export async function testSet(): Promise<{ images: Uint8Array; labels: Uint8Array }> {
  if (!cache) {
    const images = await readIdxFile(path.join(SAMPLES, 'data/t10k-images-idx3-ubyte.gz'));
    const labels = await readIdxFile(path.join(SAMPLES, 'data/t10k-labels-idx1-ubyte.gz'));
    cache = { images: images.data, labels: labels.data };
  }
  return cache;
}

export function tmpDir(prefix = 'cnn-lens-transfer-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function greyPng(pixels: Uint8Array, width = 28, height = 28): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(pixels);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}

export interface ClassFolderSpec {
  /** Fashion-MNIST labels to export, one folder each. */
  classes: number[];
  perClass: number;
  /** Skip this many images of each class first (to get disjoint sets). */
  skip?: number;
  /** Pixel transform (a shifted distribution); default identity. */
  transform?: (pixels: Uint8Array) => Uint8Array;
}

/** Writes `dir/<CLASS_FOLDERS[label]>/<index>.png`; returns `dir`. */
export async function writeClassFolders(dir: string, spec: ClassFolderSpec): Promise<string> {
  const { images, labels } = await testSet();
  for (const c of spec.classes) {
    const folder = path.join(dir, CLASS_FOLDERS[c]);
    fs.mkdirSync(folder, { recursive: true });
    let seen = 0;
    let written = 0;
    for (let i = 0; i < labels.length && written < spec.perClass; i++) {
      if (labels[i] !== c) continue;
      if (seen++ < (spec.skip ?? 0)) continue;
      const pixels = images.slice(i * 784, (i + 1) * 784);
      fs.writeFileSync(path.join(folder, `${String(i).padStart(5, '0')}.png`), greyPng(spec.transform ? spec.transform(pixels) : pixels));
      written++;
    }
  }
  return dir;
}

/** A low-contrast, brightened copy: p → 96 + 0.45 p (a camera with a grey background). */
export function lowContrastBright(pixels: Uint8Array): Uint8Array {
  return pixels.map((p) => Math.round(96 + 0.45 * p));
}
