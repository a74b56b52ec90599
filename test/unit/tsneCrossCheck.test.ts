/**
 * Cross-check of the engine's t-SNE against `tsne-js` (exact O(N²) t-SNE from npm, a dev
 * dependency used only here) on the same 300 real Fashion-MNIST test images (PCA to 50
 * dimensions): both embeddings must reach a similar 10-NN accuracy. tsne-js draws from
 * Math.random, which is replaced by a seeded generator while it runs so the test is repeatable.
 * tsne-js runs 200 iterations (its O(N²) cost is ~10 s here); ours its defaults.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { readIdxFile } from '../../src/engine/io/datasets/idx';
import { pca } from '../../src/engine/embedding/pca';
import { tsne } from '../../src/engine/embedding/tsne';
import { knnAccuracy } from '../../src/engine/embedding/quality';
import { uniformRandom } from '../../src/engine/random';
import { useWasm } from './analysisFixtures';

interface TsneJs {
  init(o: { data: number[][]; type: 'dense' }): void;
  run(): [number, number];
  getOutput(): number[][];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TSNE = require('tsne-js') as new (config: Record<string, unknown>) => TsneJs;

before(useWasm);

const root = path.resolve(__dirname, '../../..');
const N = 300;

test('t-SNE and tsne-js reach similar 10-NN accuracy on 300 Fashion-MNIST images (PCA-50)', async () => {
  const images = await readIdxFile(path.join(root, 'samples/data/t10k-images-idx3-ubyte.gz'));
  const labelsFile = await readIdxFile(path.join(root, 'samples/data/t10k-labels-idx1-ubyte.gz'));
  const d = 784;
  const pixels = Float32Array.from(images.data.subarray(0, N * d), (v) => v / 255);
  const labels = Int32Array.from(labelsFile.data.subarray(0, N));
  const x50 = pca(pixels, N, d, 50).projected;

  const ours = await tsne(x50, N, 50, { seed: 1 });
  const oursAcc = knnAccuracy(ours.points, labels, N, 10);

  const rows: number[][] = [];
  for (let i = 0; i < N; i++) rows.push(Array.from(x50.subarray(i * 50, (i + 1) * 50)));
  const random = Math.random;
  Math.random = uniformRandom(2);
  let theirs: number[][];
  try {
    const model = new TSNE({ dim: 2, perplexity: 30, earlyExaggeration: 4, learningRate: 100, nIter: 200, metric: 'euclidean' });
    model.init({ data: rows, type: 'dense' });
    model.run();
    theirs = model.getOutput();
  } finally {
    Math.random = random;
  }
  const theirsAcc = knnAccuracy(Float32Array.from(theirs.flat()), labels, N, 10);
  console.log(`# 10-NN accuracy on ${N} images: ours ${oursAcc.toFixed(3)}, tsne-js ${theirsAcc.toFixed(3)}`);
  assert.ok(oursAcc > 0.55 && theirsAcc > 0.55, `both must beat chance by far: ${oursAcc}, ${theirsAcc}`);
  assert.ok(Math.abs(oursAcc - theirsAcc) <= 0.08, `ours ${oursAcc} vs tsne-js ${theirsAcc}`);
});
