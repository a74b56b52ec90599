/**
 * Images spread evenly over a dataset instead of "the first N" (which, for folders listed class by
 * class, covers only the first classes):
 *   - `evenSampleIndices` and `BatchOptions.indices` on the PNG folder and on the gzipped and the
 *     uncompressed IDX file: exactly the images, labels and ids of reading everything and picking;
 *   - embed with `--limit 100` on the 1000-image sample folder takes 10 images of every class, and
 *     the sharded (worker pool) embedding has the in-process order;
 *   - the ERF's default images span every class, an explicit `start` keeps the contiguous range.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PREPROCESSING, evenSampleIndices, openDataset, type BatchOptions, type Dataset } from '../../src/engine/io/datasets';
import { embed, type EmbeddingResult } from '../../src/engine/analyses/embed';
import { loadModel } from '../../src/engine/io/models';
import { JOBS, clearModelCache, type JobContext } from '../../src/engine/jobs';
import { EngineClient } from '../../src/engine/client';
import { assertNoLeak, useWasm } from './analysisFixtures';

const root = path.resolve(__dirname, '../../..');
const modelFile = path.join(root, 'samples/fashion-mnist-cnn/model.json');
const pngs = path.join(root, 'samples/data/fashion-mnist-1000');
const idxGz = path.join(root, 'samples/data/t10k-images-idx3-ubyte.gz');
const labelsGz = path.join(root, 'samples/data/t10k-labels-idx1-ubyte.gz');
const GREY28 = { height: 28, width: 28, channels: 1 };
const PER_IMAGE = 28 * 28;

let tmp: string;
before(async () => {
  await useWasm();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnlens-sample-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Read {
  images: Float32Array;
  labels: number[];
  ids: string[];
  batchCounts: number[];
}

async function read(dataset: Dataset, options: Partial<BatchOptions>): Promise<Read> {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  const ids: string[] = [];
  const batchCounts: number[] = [];
  for await (const b of dataset.batches({ batchSize: 64, geometry: GREY28, preprocessing: DEFAULT_PREPROCESSING, ...options })) {
    assert.equal(b.skipped.length, 0);
    chunks.push(b.images.slice(0, b.count * PER_IMAGE));
    if (b.labels) labels.push(...b.labels.subarray(0, b.count));
    ids.push(...b.ids);
    batchCounts.push(b.count);
  }
  const images = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    images.set(c, at);
    at += c.length;
  }
  return { images, labels, ids, batchCounts };
}

/** `indices` must give exactly what reading everything and picking those items gives. */
function assertPicked(all: Read, picked: Read, indices: number[]): void {
  assert.equal(picked.ids.length, indices.length);
  assert.deepEqual(picked.ids, indices.map((i) => all.ids[i]));
  assert.deepEqual(picked.labels, indices.map((i) => all.labels[i]));
  indices.forEach((i, k) => {
    const want = all.images.subarray(i * PER_IMAGE, (i + 1) * PER_IMAGE);
    const got = picked.images.subarray(k * PER_IMAGE, (k + 1) * PER_IMAGE);
    assert.deepEqual(got, want, `image ${k} of the sample (item ${i})`);
  });
}

/** The class folder of an image path, e.g. "3_Dress". */
function classOf(file: string): string {
  return path.basename(path.dirname(file));
}

function countBy<T>(values: T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

test('evenSampleIndices: floor(i·size/count), ascending, every part of the range in proportion', () => {
  assert.deepEqual(evenSampleIndices(1000, 100), Array.from({ length: 100 }, (_, i) => 10 * i));
  assert.deepEqual(evenSampleIndices(10, 4), [0, 2, 5, 7]);
  assert.deepEqual(evenSampleIndices(5, 10), [0, 1, 2, 3, 4]);
  assert.deepEqual(evenSampleIndices(5, 0), []);
  // A whole-number stride (floor(1000 / 600) = 1) would be "the first 600": six classes of ten.
  const s = evenSampleIndices(1000, 600);
  assert.equal(new Set(s).size, 600);
  assert.ok(s.every((v, k) => k === 0 || v > s[k - 1]));
  assert.equal(s.at(-1), 998);
  assert.deepEqual([...countBy(s.map((i) => Math.floor(i / 100))).values()], Array(10).fill(60));
  assert.deepEqual(evenSampleIndices(60000, 7), [0, 8571, 17142, 25714, 34285, 42857, 51428]);
  assert.throws(() => evenSampleIndices(10, 2.5), /count must be a whole number \(got 2\.5\)/);
});

test('indices on the PNG class folder: the same images, labels and ids as reading everything', async () => {
  const dataset = await openDataset(pngs);
  assert.equal(dataset.size, 1000);
  const all = await read(dataset, {});
  assert.equal(all.ids.length, 1000);
  const sample = evenSampleIndices(1000, 100);
  const picked = await read(dataset, { indices: sample, batchSize: 7 });
  assertPicked(all, picked, sample);
  assert.deepEqual(picked.batchCounts, [...Array(14).fill(7), 2]);
  assert.deepEqual([...countBy(picked.labels).entries()].sort((a, b) => a[0] - b[0]), Array.from({ length: 10 }, (_, c) => [c, 10]));
  // Irregular gaps, neighbours, the first and the last item.
  const irregular = [0, 1, 2, 99, 100, 101, 517, 998, 999];
  assertPicked(all, await read(dataset, { indices: irregular, batchSize: 4 }), irregular);
  assert.deepEqual((await read(dataset, { indices: [] })).ids, []);
});

test('indices on the IDX file, gzipped and uncompressed: the records in between are skipped', async () => {
  const gz = await openDataset(idxGz);
  assert.equal(gz.size, 10000);
  const all = await read(gz, { batchSize: 500 });
  assert.equal(all.ids.length, 10000);
  assert.equal(all.ids[4321], `${idxGz}#4321`);
  const sample = evenSampleIndices(10000, 123);
  const picked = await read(gz, { indices: sample, batchSize: 10 });
  assertPicked(all, picked, sample);
  assert.deepEqual(picked.batchCounts, [...Array(12).fill(10), 3]);
  const irregular = [3, 4, 5, 784, 785, 5000, 9998, 9999];
  assertPicked(all, await read(gz, { indices: irregular, batchSize: 3 }), irregular);

  // Uncompressed: the stream seeks to the first wanted record (3, not 0) and skips from there.
  const raw = path.join(tmp, 't10k-images-idx3-ubyte');
  fs.writeFileSync(raw, zlib.gunzipSync(fs.readFileSync(idxGz)));
  fs.writeFileSync(path.join(tmp, 't10k-labels-idx1-ubyte'), zlib.gunzipSync(fs.readFileSync(labelsGz)));
  const plain = await openDataset(raw);
  const fromPlain = await read(plain, { indices: irregular, batchSize: 3 });
  assert.deepEqual(fromPlain.ids, irregular.map((i) => `${raw}#${i}`));
  assert.deepEqual(fromPlain.labels, irregular.map((i) => all.labels[i]));
  irregular.forEach((i, k) =>
    assert.deepEqual(fromPlain.images.subarray(k * PER_IMAGE, (k + 1) * PER_IMAGE), all.images.subarray(i * PER_IMAGE, (i + 1) * PER_IMAGE)),
  );

  // A truncated file names the wanted record it could not reach.
  const cut = path.join(tmp, 'cut-images-idx3-ubyte.gz');
  fs.writeFileSync(cut, zlib.gzipSync(fs.readFileSync(raw).subarray(0, 16 + 100 * PER_IMAGE + 50)));
  const short = await openDataset(cut);
  await assert.rejects(read(short, { indices: [10, 99, 100] }), /cut-images-idx3-ubyte\.gz: truncated IDX file .* data ends at image 100/);
});

test('bad indices are errors naming the dataset and the problem', async () => {
  const dataset = await openDataset(pngs);
  await assert.rejects(read(dataset, { indices: [5, 3] }), (e: Error) => e.message.startsWith(pngs) && /strictly ascending \(indices\[1\] = 3 after 5\)/.test(e.message));
  await assert.rejects(read(dataset, { indices: [0, 1000] }), /fashion-mnist-1000: item index 1000 \(indices\[1\]\) is not within the dataset's 1000 items/);
  await assert.rejects(read(dataset, { indices: [0], start: 0 }), /fashion-mnist-1000: give either indices or a \[start, end\) range, not both/);
  const gz = await openDataset(idxGz);
  await assert.rejects(read(gz, { indices: [1.5] }), /t10k-images-idx3-ubyte\.gz: item index 1\.5/);
});

test('embed --limit 100 on the sample folder: 10 images of every class, in-process and sharded in the same order', async () => {
  const model = await loadModel(modelFile);
  let inProcess: EmbeddingResult;
  try {
    const dataset = await openDataset(pngs);
    const all = await read(dataset, {});
    const baseline = tf.memory().numTensors;
    const progress: [number, number][] = [];
    inProcess = await embed(model, dataset, { limit: 100, method: 'pca' }, { onProgress: (d, t, phase) => phase === 'codes' && progress.push([d, t]) });
    assertNoLeak(baseline, 'embed');
    assert.deepEqual(inProcess.ids, evenSampleIndices(1000, 100).map((i) => all.ids[i]));
    assert.deepEqual([...countBy(inProcess.ids.map(classOf)).values()], Array(10).fill(10));
    assert.deepEqual([...countBy(Array.from(inProcess.labels!)).values()], Array(10).fill(10));
    assert.deepEqual(progress.at(-1), [100, 100]);
  } finally {
    model.dispose();
  }

  const client = new EngineClient({ workers: 2 });
  try {
    const seen: [number, number][] = [];
    const sharded = await client.embed(modelFile, { data: pngs, limit: 100, method: 'pca', batchSize: 16 }, { onProgress: (d, t) => seen.push([d, t]) });
    assert.deepEqual(sharded.ids, inProcess.ids);
    assert.deepEqual(sharded.labels, inProcess.labels);
    assert.deepEqual(sharded.predicted, inProcess.predicted);
    // Same codes in the same order: the same PCA map (up to float summation order).
    for (let i = 0; i < inProcess.points.length; i++) assert.ok(Math.abs(sharded.points[i] - inProcess.points[i]) < 1e-3, `point value ${i}`);
    assert.ok(seen.every(([, t]) => t === 100));
    assert.equal(Math.max(...seen.map(([d]) => d)), 100);

    // With the whole dataset (limit ≥ size) the order is the listing's, as before.
    const whole = await client.embed(modelFile, { data: pngs, limit: 5000, method: 'pca' });
    assert.equal(whole.ids.length, 1000);
    assert.match(whole.ids[0], /0_T-shirt_top/);
    assert.match(whole.ids[999], /9_Ankle_boot/);
  } finally {
    await client.dispose();
  }
});

test('ERF: the default images span every class; an explicit start keeps the contiguous range', async () => {
  const ctx: JobContext = { signal: new AbortController().signal, backend: 'wasm', progress: () => {} };
  const baseline = tf.memory().numTensors;
  const dataset = await openDataset(pngs);
  const all = await read(dataset, {});
  const spread = await JOBS.effectiveReceptiveField({ model: modelFile, layer: 'conv2', data: pngs }, ctx);
  assert.equal(spread.images, 32);
  assert.deepEqual(spread.imagesUsed, evenSampleIndices(1000, 32).map((i) => all.ids[i]));
  const perClass = countBy(spread.imagesUsed.map(classOf));
  assert.equal(perClass.size, 10);
  assert.ok([...perClass.values()].every((n) => n === 3 || n === 4), JSON.stringify([...perClass]));

  const contiguous = await JOBS.effectiveReceptiveField({ model: modelFile, layer: 'conv2', data: pngs, start: 0, limit: 32 }, ctx);
  assert.deepEqual(contiguous.imagesUsed, all.ids.slice(0, 32));
  assert.deepEqual([...countBy(contiguous.imagesUsed.map(classOf)).keys()], ['0_T-shirt_top']);

  const table = await JOBS.erfRadiiPerLayer({ model: modelFile, data: pngs, limit: 20 }, ctx);
  assert.deepEqual(table.imagesUsed, evenSampleIndices(1000, 20).map((i) => all.ids[i]));
  assert.equal(countBy(table.imagesUsed.map(classOf)).size, 10);
  clearModelCache();
  await new Promise((res) => setTimeout(res, 10));
  assertNoLeak(baseline, 'erf jobs');
});
