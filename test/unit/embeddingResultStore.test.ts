/**
 * The Embedding view's stored results (src/embedding/embeddingResultStore.ts): a real PCA
 * embedding of the sample CNN (its 1,000 PNGs through the worker pool) written and read back
 * bit for bit; unreadable files rejected with an Error naming the file; the validity key
 * following the model's cnnlens.json and weights, the dataset and the settings on a temp copy
 * of the sample; pruning of files whose panel is gone.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineClient, type EmbedReport } from '../../src/engine/client';
import { DEFAULT_EMBEDDING_SETTINGS, type EmbeddingSettings } from '../../src/protocol';
import { randomBytes } from 'node:crypto';
import {
  EmbeddingResultFiles,
  STORED_EMBEDDING_EXT,
  decodeStoredEmbedding,
  embeddingResultKey,
  embeddingSettingsKey,
  encodeStoredEmbedding,
  keyMismatch,
  type StoredEmbedding,
} from '../../src/embedding/embeddingResultStore';

const root = path.resolve(__dirname, '../../..');
const sampleDir = path.join(root, 'samples/fashion-mnist-cnn');
const pngDir = path.join(root, 'samples/data/fashion-mnist-1000');
const idx = path.join(root, 'samples/data/t10k-images-idx3-ubyte.gz');
const PCA: EmbeddingSettings = { ...DEFAULT_EMBEDDING_SETTINGS, method: 'pca', limit: 1000 };

/** A panel id as `PanelStateStore.newId` makes them (that module needs VS Code). */
const newPanelId = () => randomBytes(16).toString('hex');

let tmp: string;
let pngResult: EmbedReport;
let idxResult: EmbedReport;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnlens-embstore-'));
  const client = new EngineClient({ workers: 1 });
  try {
    pngResult = await client.embed(path.join(sampleDir, 'model.json'), { method: 'pca', limit: 1000 });
    idxResult = await client.embed(path.join(sampleDir, 'model.json'), { method: 'pca', limit: 300, data: idx });
  } finally {
    await client.dispose();
  }
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function assertSameReport(actual: EmbedReport, expected: EmbedReport): void {
  assert.ok(actual.points instanceof Float32Array && actual.predicted instanceof Int32Array);
  assert.deepEqual(Buffer.from(actual.points.buffer), Buffer.from(expected.points.buffer, expected.points.byteOffset, expected.points.byteLength));
  assert.deepEqual(actual.labels && Array.from(actual.labels), expected.labels && Array.from(expected.labels));
  assert.deepEqual(Array.from(actual.predicted), Array.from(expected.predicted));
  assert.deepEqual(actual.ids, expected.ids);
  for (const k of ['method', 'layer', 'dims', 'classNames', 'knnAccuracy', 'trustworthiness', 'trustworthinessSample', 'seconds', 'codeSeconds', 'backend', 'dataset', 'qualitySeconds', 'timings'] as const) {
    assert.deepEqual(actual[k], expected[k], k);
  }
}

test('a real PCA result of the sample (1,000 PNGs) and an IDX one round-trip bit for bit', () => {
  assert.equal(pngResult.points.length, 2000);
  assert.equal(pngResult.classNames?.length, 10);
  assert.ok(pngResult.ids[0].startsWith(pngDir), pngResult.ids[0]);
  const stored: StoredEmbedding = {
    savedAt: 1_700_000_000_000,
    panes: [
      { source: { model: path.join(sampleDir, 'model.json') }, settings: PCA, key: { model: 'a', inputs: 'b', settings: 'c' }, result: pngResult },
      { source: { model: path.join(sampleDir, 'model.json'), layer: 'conv2' }, settings: { ...PCA, limit: 300 }, key: { model: 'd', inputs: 'e', settings: 'f' }, result: idxResult },
    ],
  };
  const buf = encodeStoredEmbedding(stored);
  // Arrays as raw bytes; the ids' shared folder is written once.
  const arrays = 2000 * 4 + 1000 * 4 * 2 + 600 * 4 + 300 * 4 * 2;
  const idChars = pngResult.ids.reduce((n, id) => n + id.length, 0);
  assert.ok(buf.length < arrays + idChars / 2, `${buf.length} bytes for ${arrays} bytes of arrays and ${idChars} characters of ids`);
  // A buffer at an odd offset (as a pooled Buffer may be) still decodes.
  const shifted = Buffer.alloc(buf.length + 1);
  buf.copy(shifted, 1);
  const back = decodeStoredEmbedding(shifted.subarray(1), 'x.cnnemb');
  assert.equal(back.savedAt, stored.savedAt);
  assert.deepEqual(back.panes[0]?.source, stored.panes[0]?.source);
  assert.deepEqual(back.panes[1]?.source, stored.panes[1]?.source);
  assert.deepEqual(back.panes[0]?.settings, PCA);
  assert.deepEqual(back.panes[1]?.key, stored.panes[1]?.key);
  assertSameReport(back.panes[0]!.result, pngResult);
  assertSameReport(back.panes[1]!.result, idxResult);
  assert.ok(back.panes[1]!.result.ids.every((id) => id.startsWith(`${idx}#`)));

  // An unlabelled pane and a missing pane.
  const unlabelled = { ...pngResult, labels: null, knnAccuracy: null, classNames: null };
  const one = decodeStoredEmbedding(encodeStoredEmbedding({ savedAt: 1, panes: [null, { ...stored.panes[0]!, result: unlabelled }] }), 'y');
  assert.equal(one.panes[0], null);
  assert.equal(one.panes[1]?.result.labels, null);
  assert.equal(one.panes[1]?.result.knnAccuracy, null);
  assert.deepEqual(Array.from(one.panes[1]!.result.points), Array.from(pngResult.points));
});

test('unreadable files are rejected with an Error naming the file and the problem', async () => {
  const good = encodeStoredEmbedding({ savedAt: 1, panes: [{ source: { model: '/m/model.json' }, settings: PCA, key: { model: 'a', inputs: 'b', settings: 'c' }, result: pngResult }] });
  const file = '/storage/0123.cnnemb';
  const cases: [Uint8Array, RegExp][] = [
    [Buffer.alloc(0), /bad signature/],
    [Buffer.from('{"not":"ours"}'), /bad signature/],
    [good.subarray(0, 40), /truncated: header/],
    [good.subarray(0, good.length - 4), /truncated: pane 0 predictions/],
    [Buffer.concat([good, Buffer.alloc(8)]), /8 bytes after the last array/],
  ];
  const badJson = Buffer.from(good);
  badJson[13] = 0x7b; // '{' inside the header's first key
  cases.push([badJson, /unreadable header/]);
  const header = JSON.parse(good.toString('utf8', 12, 12 + good.readUInt32LE(8))) as Record<string, any>;
  const rewrite = (h: Record<string, any>) => {
    const json = Buffer.from(JSON.stringify(h));
    const head = Buffer.alloc(12);
    head.write('CNNLEMB1', 0, 'latin1');
    head.writeUInt32LE(json.length, 8);
    return Buffer.concat([head, json, Buffer.alloc((4 - ((12 + json.length) % 4)) % 4), Buffer.alloc(2000 * 4 + 2000 * 4)]);
  };
  cases.push([rewrite({ ...header, version: 2 }), /unsupported version 2/]);
  cases.push([rewrite({ ...header, panes: [{ ...header.panes[0], idSuffixes: ['a'] }] }), /ids that do not match its 1000 points/]);
  cases.push([rewrite({ ...header, panes: [{ ...header.panes[0], settings: { method: 'lda' } }] }), /no valid settings/]);
  for (const [bytes, pattern] of cases) {
    assert.throws(
      () => decodeStoredEmbedding(bytes, file),
      (err: Error) => err.message.startsWith(`${file}: `) && pattern.test(err.message),
      `${pattern}`,
    );
  }
  // Through the folder API: missing → undefined, corrupt → the same Error.
  const files = new EmbeddingResultFiles(path.join(tmp, 'corrupt'));
  const id = newPanelId();
  assert.equal(await files.read(id), undefined);
  fs.mkdirSync(files.dir, { recursive: true });
  fs.writeFileSync(files.fileFor(id), good.subarray(0, 100));
  await assert.rejects(files.read(id), (err: Error) => err.message.startsWith(`${files.fileFor(id)}: truncated: header of`));
  assert.throws(() => files.fileFor('../../etc/passwd'), /invalid panel id/);
});

test('the key follows cnnlens.json, the weights, the dataset and the settings (temp copy of the sample)', async () => {
  const modelDir = path.join(tmp, 'model');
  const dataDir = path.join(tmp, 'data');
  fs.cpSync(sampleDir, modelDir, { recursive: true });
  fs.cpSync(pngDir, dataDir, { recursive: true });
  const model = path.join(modelDir, 'model.json');
  const source = { model };
  const k0 = await embeddingResultKey(source, dataDir, PCA);
  assert.equal(keyMismatch(k0, await embeddingResultKey(source, dataDir, PCA)), undefined, 'unchanged inputs: same key');
  // Parameters PCA does not use do not matter; those it uses and the layer do.
  assert.equal(keyMismatch(k0, await embeddingResultKey(source, dataDir, { ...PCA, perplexity: 50, iterations: 900 })), undefined);
  assert.match(keyMismatch(k0, await embeddingResultKey(source, dataDir, { ...PCA, limit: 999 })) ?? '', /settings or the layer/);
  assert.match(keyMismatch(k0, await embeddingResultKey({ model, layer: 'conv2' }, dataDir, PCA)) ?? '', /settings or the layer/);
  const tsne = { ...DEFAULT_EMBEDDING_SETTINGS };
  assert.notEqual(embeddingSettingsKey(tsne, undefined), embeddingSettingsKey({ ...tsne, perplexity: 31 }, undefined));
  assert.equal(embeddingSettingsKey(tsne, undefined), embeddingSettingsKey({ ...tsne, neighbors: 40 }, undefined));

  // The dataset: an image removed from a class folder.
  const classDir = path.join(dataDir, fs.readdirSync(dataDir).sort()[0]);
  const victim = path.join(classDir, fs.readdirSync(classDir).sort()[0]);
  const kept = fs.readFileSync(victim);
  fs.rmSync(victim);
  assert.match(keyMismatch(k0, await embeddingResultKey(source, dataDir, PCA)) ?? '', /dataset changed/);
  fs.writeFileSync(victim, kept);
  const k1 = await embeddingResultKey(source, dataDir, PCA);

  // cnnlens.json rewritten (same JSON, one more newline).
  const config = path.join(modelDir, 'cnnlens.json');
  fs.appendFileSync(config, '\n');
  const k2 = await embeddingResultKey(source, dataDir, PCA);
  assert.match(keyMismatch(k1, k2) ?? '', /model, its weights or its cnnlens.json/);
  // The weight shard touched (same bytes, new mtime).
  const shard = path.join(modelDir, 'group1-shard1of1.bin');
  const later = new Date(fs.statSync(shard).mtimeMs + 5000);
  fs.utimesSync(shard, later, later);
  assert.match(keyMismatch(k2, await embeddingResultKey(source, dataDir, PCA)) ?? '', /model, its weights/);
});

test('files are written atomically, deleted, and pruned when their panel is gone', async () => {
  const files = new EmbeddingResultFiles(path.join(tmp, 'store'));
  const stored: StoredEmbedding = { savedAt: Date.now(), panes: [{ source: { model: '/m/model.json' }, settings: PCA, key: { model: 'a', inputs: 'b', settings: 'c' }, result: pngResult }] };
  const live = newPanelId();
  const closed = newPanelId();
  const bytes = await files.write(live, stored);
  await files.write(closed, stored);
  assert.equal(fs.statSync(files.fileFor(live)).size, bytes);
  assert.deepEqual(fs.readdirSync(files.dir).sort(), [live, closed].map((id) => `${id}${STORED_EMBEDDING_EXT}`).sort(), 'no temp files left');
  assertSameReport((await files.read(live))!.panes[0]!.result, pngResult);

  // A temp file from a crashed write, an hour old; one being written now.
  const oldTemp = path.join(files.dir, `.${closed}${STORED_EMBEDDING_EXT}.123.abc.tmp`);
  const newTemp = path.join(files.dir, `.${live}${STORED_EMBEDDING_EXT}.456.def.tmp`);
  fs.writeFileSync(oldTemp, 'x');
  fs.writeFileSync(newTemp, 'x');
  const hourAgo = new Date(Date.now() - 3600_000);
  fs.utimesSync(oldTemp, hourAgo, hourAgo);
  fs.writeFileSync(path.join(files.dir, 'README.txt'), 'not ours to delete');

  // Shared folder: files younger than the minimum age stay even without a record.
  assert.deepEqual(await files.prune((id) => id === live, 7 * 24 * 3600_000), [oldTemp]);
  const removed = await files.prune((id) => id === live);
  assert.deepEqual(removed, [files.fileFor(closed)]);
  assert.deepEqual(fs.readdirSync(files.dir).sort(), [newTemp, files.fileFor(live), path.join(files.dir, 'README.txt')].map((f) => path.basename(f)).sort());
  await files.delete(live);
  await files.delete(live); // twice: no error
  assert.equal(await files.read(live), undefined);
  assert.deepEqual(await new EmbeddingResultFiles(path.join(tmp, 'never-created')).prune(() => false), []);
});
