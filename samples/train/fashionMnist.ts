/**
 * Shared constants of the bundled Fashion-MNIST samples (used by trainSamples.ts and
 * exportSampleImages.ts).
 */
import * as path from 'node:path';

/** Class names in label order (0…9); "/" of the official "T-shirt/top" is replaced by "_". */
export const CLASS_NAMES = [
  'T-shirt_top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle_boot',
] as const;

/**
 * Class folder names of samples/data/fashion-mnist-1000: label index + "_" + class name, so that
 * sorting the folders alphabetically (what Keras' image_dataset_from_directory and CNN Lens do
 * without a cnnlens.json) still gives label order. cnnlens.json lists exactly these names as
 * `classNames`, because the image-folder reader matches folders to classNames by name.
 */
export const SAMPLE_CLASS_FOLDERS: string[] = CLASS_NAMES.map((name, i) => `${i}_${name}`);

/** Repository root (this file runs from out/samples/train/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SAMPLES = path.join(ROOT, 'samples');
export const SAMPLE_DATASET = path.join(SAMPLES, 'data', 'fashion-mnist-1000');
/** Debian package fashion-mnist; override with FASHION_MNIST_DIR. */
export const DATA_DIR = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
