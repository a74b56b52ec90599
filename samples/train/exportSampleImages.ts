/**
 * Builds the bundled sample dataset from the Fashion-MNIST test set:
 *
 *   samples/data/fashion-mnist-1000/<label>_<ClassName>/<testIndex>.png
 *       the first 100 test images of each class (1000 images), 28×28 8-bit greyscale PNGs,
 *       named by their index in the 10k test set (zero-padded to 5 digits)
 *   samples/data/t10k-images-idx3-ubyte.gz, samples/data/t10k-labels-idx1-ubyte.gz
 *       the whole 10k test set in its original IDX form (copied)
 *
 * Run from the repository root:
 *
 *   npx tsc -p tsconfig.test.json
 *   node out/samples/train/exportSampleImages.js
 *
 * The image folder is written into a temporary folder and renamed into place, so it is never
 * seen half-written; every PNG is decoded again with CNN Lens's own decoder and compared with the
 * source pixels. Output is deterministic (re-running rewrites identical files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../../src/engine/io/atomicWrite';
import { decodeImage } from '../../src/engine/io/datasets/decode';
import { readIdxFile } from '../../src/engine/io/datasets/idx';
import { CLASS_NAMES, DATA_DIR, ROOT, SAMPLE_CLASS_FOLDERS, SAMPLE_DATASET, SAMPLES } from './fashionMnist';

const PER_CLASS = 100;
const IDX_FILES = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(pixels);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}

async function main(): Promise<void> {
  const images = await readIdxFile(path.join(DATA_DIR, IDX_FILES[0]));
  const labels = await readIdxFile(path.join(DATA_DIR, IDX_FILES[1]));
  const [n, h, w] = images.dims;
  if (images.dims.length !== 3 || labels.dims[0] !== n) throw new Error(`unexpected IDX dimensions ${images.dims} / ${labels.dims}`);

  const parent = path.dirname(SAMPLE_DATASET);
  await fs.promises.mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(SAMPLE_DATASET)}.tmp-${process.pid}`);
  await fs.promises.rm(tmp, { recursive: true, force: true });
  try {
    for (const folder of SAMPLE_CLASS_FOLDERS) await fs.promises.mkdir(path.join(tmp, folder), { recursive: true });
    const counts = new Array<number>(CLASS_NAMES.length).fill(0);
    for (let i = 0; i < n && counts.some((c) => c < PER_CLASS); i++) {
      const label = labels.data[i];
      if (label >= CLASS_NAMES.length) throw new Error(`label ${label} out of range at test index ${i}`);
      if (counts[label] >= PER_CLASS) continue;
      counts[label]++;
      const pixels = images.data.subarray(i * h * w, (i + 1) * h * w);
      const bytes = encodeGreyPng(pixels, w, h);
      const file = path.join(tmp, SAMPLE_CLASS_FOLDERS[label], `${String(i).padStart(5, '0')}.png`);
      await fs.promises.writeFile(file, bytes);
      // Round trip through the decoder the extension uses.
      const back = decodeImage(new Uint8Array(bytes), file);
      if (back.width !== w || back.height !== h || back.channels !== 1 || Buffer.compare(Buffer.from(back.data), Buffer.from(pixels)) !== 0) {
        throw new Error(`${file}: PNG round trip changed the image`);
      }
    }
    if (counts.some((c) => c < PER_CLASS)) throw new Error(`not enough test images per class: ${counts}`);

    // Swap the finished folder into place.
    let old: string | undefined;
    if (fs.existsSync(SAMPLE_DATASET)) {
      old = path.join(parent, `.${path.basename(SAMPLE_DATASET)}.old-${process.pid}`);
      await fs.promises.rename(SAMPLE_DATASET, old);
    }
    await fs.promises.rename(tmp, SAMPLE_DATASET);
    if (old) await fs.promises.rm(old, { recursive: true, force: true });
    console.log(`wrote ${counts.reduce((a, b) => a + b, 0)} PNGs to ${path.relative(ROOT, SAMPLE_DATASET)} (${counts.join(', ')} per class)`);
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw err;
  }

  for (const name of IDX_FILES) {
    await writeFileAtomic(path.join(SAMPLES, 'data', name), await fs.promises.readFile(path.join(DATA_DIR, name)));
  }
  console.log(`copied ${IDX_FILES.join(', ')} to ${path.relative(ROOT, path.join(SAMPLES, 'data'))}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
