/**
 * The Embedding view's host and geometry code without VS Code: message validation (a webview
 * names panes, points and layers, never a path), the settings → job options mapping, pane
 * linking, thumbnails rendered from the real sample PNGs and the real IDX test set, the scatter
 * plot's picking grid against brute force on 50,000 points, and its view transforms.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { DEFAULT_EMBEDDING_SETTINGS, validateEmbeddingMessage, validateEmbeddingSettings } from '../../src/protocol';
import { embeddingJob, linkedPanes } from '../../src/embedding/embeddingWire';
import { ThumbnailRenderer, parseIdxId, thumbnailRgba } from '../../src/engine/render/thumbnails';
import { decodeImage, readIdxFile } from '../../src/engine/io/datasets';
import { PointGrid, fitView, panBy, pointBounds, toData, toScreen, zoomAbout } from '../../webview/shared/pointGrid';
import { classColour, parseCssColour, TABLEAU_10 } from '../../webview/shared/palette';
import { seeded } from './analysisFixtures';
import { EngineClient } from '../../src/engine/client';

const root = path.resolve(__dirname, '../../..');
const pngDir = path.join(root, 'samples/data/fashion-mnist-1000');
const idxImages = path.join(root, 'samples/data/t10k-images-idx3-ubyte.gz');

function decodeDataUri(uri: string): PNG {
  assert.match(uri, /^data:image\/png;base64,/);
  return PNG.sync.read(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64'));
}

test('embedding messages: run with bounded settings, panes and point indices only', () => {
  const settings = { ...DEFAULT_EMBEDDING_SETTINGS };
  assert.deepEqual(validateEmbeddingMessage({ type: 'run', settings, layers: [null] }), { type: 'run', settings, layers: [null] });
  assert.deepEqual(validateEmbeddingMessage({ type: 'run', settings, layers: ['dense1', 'conv2'] }), { type: 'run', settings, layers: ['dense1', 'conv2'] });
  assert.deepEqual(validateEmbeddingMessage({ type: 'hoverPoint', pane: 1, index: 49_999, requestId: 7 }), { type: 'hoverPoint', pane: 1, index: 49_999, requestId: 7 });
  assert.deepEqual(validateEmbeddingMessage({ type: 'openPoint', pane: 0, index: 3 }), { type: 'openPoint', pane: 0, index: 3 });
  assert.deepEqual(validateEmbeddingMessage({ type: 'rendered', pane: 0, points: 1000, final: true }), { type: 'rendered', pane: 0, points: 1000, final: true });
  for (const t of ['cancel', 'compare', 'closeCompare', 'ready']) assert.deepEqual(validateEmbeddingMessage({ type: t }), { type: t });

  // Out-of-range or malformed settings.
  for (const bad of [
    { ...settings, method: 'lda' },
    { ...settings, limit: 0 },
    { ...settings, limit: 1.5 },
    { ...settings, perplexity: 1 },
    { ...settings, iterations: 1e6 },
    { ...settings, minDist: -0.1 },
    { ...settings, neighbors: NaN },
    { ...settings, data: '/etc/passwd' },
  ]) {
    assert.equal(validateEmbeddingMessage({ type: 'run', settings: bad, layers: [null] }), undefined, JSON.stringify(bad));
  }
  const { limit: _limit, ...missing } = settings;
  assert.equal(validateEmbeddingSettings(missing), undefined, 'every setting is required');
  assert.equal(validateEmbeddingMessage({ type: 'run', settings, layers: [] }), undefined);
  assert.equal(validateEmbeddingMessage({ type: 'run', settings, layers: [null, null, null] }), undefined);
  assert.equal(validateEmbeddingMessage({ type: 'run', settings, layers: ['a\nb'] }), undefined);
  // Panes are 0 or 1; indices whole and non-negative; no paths anywhere.
  for (const pane of [2, -1, '0', 0.5]) assert.equal(validateEmbeddingMessage({ type: 'openPoint', pane, index: 1 }), undefined);
  for (const index of [-1, 2.5, '4', 1e12]) assert.equal(validateEmbeddingMessage({ type: 'openPoint', pane: 0, index }), undefined);
  assert.equal(validateEmbeddingMessage({ type: 'openPoint', pane: 0, index: 1, file: '/etc/passwd' }), undefined);
  assert.equal(validateEmbeddingMessage({ type: 'hoverPoint', pane: 0, index: 1 }), undefined, 'requestId is required');
  assert.equal(validateEmbeddingMessage({ type: 'compare', model: '/tmp/model.json' }), undefined);
  assert.equal(validateEmbeddingMessage({ type: 'rendered', pane: 0, points: 10 }), undefined);
  assert.equal(validateEmbeddingMessage({ type: 'selectLayer', layer: 'x' }), undefined, "another view's message");
});

test('settings become the job options of the chosen method only', () => {
  const s = { ...DEFAULT_EMBEDDING_SETTINGS, limit: 500, perplexity: 12, iterations: 300, neighbors: 9, minDist: 0.3 };
  assert.deepEqual(embeddingJob({ ...s, method: 'tsne' }, 'dense1'), { method: 'tsne', limit: 500, layer: 'dense1', perplexity: 12, iterations: 300 });
  assert.deepEqual(embeddingJob({ ...s, method: 'pca' }, undefined), { method: 'pca', limit: 500 });
  assert.deepEqual(embeddingJob({ ...s, method: 'umap' }, undefined), { method: 'umap', limit: 500, iterations: 300, neighbors: 9, minDist: 0.3 });
});

test('panes are linked only when they hold the same images in the same order', () => {
  const a = { ids: ['x/1.png', 'x/2.png', 'x/3.png'] };
  assert.equal(linkedPanes([a, { ids: [...a.ids] }]), true);
  assert.equal(linkedPanes([a, { ids: ['x/1.png', 'x/3.png', 'x/2.png'] }]), false);
  assert.equal(linkedPanes([a, { ids: a.ids.slice(0, 2) }]), false);
  assert.equal(linkedPanes([a, undefined]), false);
  assert.equal(linkedPanes([a]), false);
});

test('thumbnails: a sample PNG keeps its pixels; an IDX record equals the file bytes', async () => {
  const cls = fs.readdirSync(pngDir).sort()[0];
  const file = path.join(pngDir, cls, fs.readdirSync(path.join(pngDir, cls)).sort()[0]);
  const renderer = new ThumbnailRenderer();
  const png = decodeDataUri(await renderer.thumbnail(file));
  const original = decodeImage(fs.readFileSync(file), file);
  assert.equal(png.width, original.width);
  assert.equal(png.height, original.height);
  for (let i = 0; i < original.width * original.height; i++) {
    const grey = original.data[i * original.channels];
    assert.deepEqual([...png.data.subarray(4 * i, 4 * i + 4)], [grey, original.channels >= 3 ? original.data[i * original.channels + 1] : grey, original.channels >= 3 ? original.data[i * original.channels + 2] : grey, 255]);
  }
  // The same id again comes from the cache (same promise).
  assert.equal(renderer.thumbnail(file), renderer.thumbnail(file));

  const { dims, data } = await readIdxFile(idxImages);
  const [, h, w] = dims;
  for (const index of [0, 1234, dims[0] - 1]) {
    const id = `${idxImages}#${index}`;
    assert.deepEqual(parseIdxId(id), { file: idxImages, index });
    const thumb = decodeDataUri(await renderer.thumbnail(id));
    assert.equal(thumb.width, w);
    assert.equal(thumb.height, h);
    for (let p = 0; p < h * w; p++) assert.equal(thumb.data[4 * p], data[index * h * w + p], `record ${index} pixel ${p}`);
  }
  await assert.rejects(renderer.thumbnail(`${idxImages}#${dims[0]}`), /no record 10000 \(the file has 10000\)/);
  await assert.rejects(renderer.thumbnail(path.join(pngDir, 'missing.png')), /missing\.png: cannot read/);
});

test('EngineClient.thumbnail renders in a worker the same data URI as in-process; errors name the item', async () => {
  const cls = fs.readdirSync(pngDir).sort()[0];
  const file = path.join(pngDir, cls, fs.readdirSync(path.join(pngDir, cls)).sort()[0]);
  const client = new EngineClient({ workers: 2 });
  try {
    const renderer = new ThumbnailRenderer();
    assert.equal(await client.thumbnail(file), await renderer.thumbnail(file));
    assert.equal(await client.thumbnail(`${idxImages}#42`), await renderer.thumbnail(`${idxImages}#42`));
    await assert.rejects(client.thumbnail(path.join(pngDir, 'missing.png')), /missing\.png: cannot read/);
  } finally {
    await client.dispose();
  }
});

test('thumbnails of large images are box-averaged down to at most 96 pixels', () => {
  // 300×200 RGB: red ramp along x, green constant 10, blue = y.
  const w = 300;
  const h = 200;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x % 256, 10, y], (y * w + x) * 3);
  const t = thumbnailRgba({ width: w, height: h, channels: 3, alpha: false, data });
  // factor ⌈300/96⌉ = 4 → 75×50
  assert.equal(t.width, 75);
  assert.equal(t.height, 50);
  const at = (x: number, y: number) => [...t.data.subarray((y * 75 + x) * 4, (y * 75 + x) * 4 + 4)];
  assert.deepEqual(at(0, 0), [Math.round((0 + 1 + 2 + 3) / 4), 10, Math.round((0 + 1 + 2 + 3) / 4), 255]);
  assert.deepEqual(at(10, 20), [Math.round((40 + 41 + 42 + 43) / 4), 10, Math.round((80 + 81 + 82 + 83) / 4), 255]);
});

test('the picking grid finds the same nearest point as brute force (50,000 points)', () => {
  const rnd = seeded(7);
  const n = 50_000;
  const points = new Float32Array(2 * n);
  // Clustered like an embedding: 10 Gaussian-ish blobs.
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    points[2 * i] = Math.cos(c) * 40 + (rnd() + rnd() + rnd() - 1.5) * 8;
    points[2 * i + 1] = Math.sin(c) * 40 + (rnd() + rnd() + rnd() - 1.5) * 8;
  }
  const grid = new PointGrid(points);
  const accept = (i: number) => i % 10 !== 3; // a hidden class
  for (let q = 0; q < 400; q++) {
    const x = (rnd() - 0.5) * 110;
    const y = (rnd() - 0.5) * 110;
    const radius = [0.05, 0.5, 3][q % 3];
    let best = -1;
    let bestD = radius * radius;
    for (let i = 0; i < n; i++) {
      if (!accept(i)) continue;
      const d = (points[2 * i] - x) ** 2 + (points[2 * i + 1] - y) ** 2;
      if (d < bestD || (d === bestD && i > best)) {
        best = i;
        bestD = d;
      }
    }
    assert.equal(grid.nearest(x, y, radius, accept), best, `query ${q} at (${x}, ${y}) r ${radius}`);
  }
  // A point is found at its own position, and nothing far from every point.
  assert.equal(grid.nearest(points[2 * 4321], points[2 * 4321 + 1], 1e-6), 4321);
  assert.equal(grid.nearest(1e6, 1e6, 1), -1);
});

test('view transforms: fit, screen ↔ data round trip, zoom keeps the point under the cursor, pan', () => {
  const points = Float32Array.from([-10, -5, 30, 15, 0, 0]);
  const b = pointBounds(points);
  assert.deepEqual(b, { minX: -10, minY: -5, maxX: 30, maxY: 15 });
  const v = fitView(b, 440, 240, 20);
  assert.equal(v.scale, Math.min(400 / 40, 200 / 20));
  assert.deepEqual(toScreen(v, 440, 240, -10, 15), [20, 20]); // top-left corner (y up)
  assert.deepEqual(toScreen(v, 440, 240, 30, -5), [420, 220]);
  const [x, y] = toData(v, 440, 240, 123, 77);
  const back = toScreen(v, 440, 240, x, y);
  assert.ok(Math.abs(back[0] - 123) < 1e-9 && Math.abs(back[1] - 77) < 1e-9);
  const z = zoomAbout(v, 3, 440, 240, 123, 77);
  assert.equal(z.scale, v.scale * 3);
  const [zx, zy] = toData(z, 440, 240, 123, 77);
  assert.ok(Math.abs(zx - x) < 1e-9 && Math.abs(zy - y) < 1e-9, 'the data point under the cursor stays there');
  const p = panBy(v, 50, -20);
  const moved = toScreen(p, 440, 240, 0, 0);
  const before = toScreen(v, 440, 240, 0, 0);
  assert.deepEqual([moved[0] - before[0], moved[1] - before[1]], [50, -20], 'content follows the drag');
});

test('class colours: Tableau 10 first, then distinct hues; CSS colours parse', () => {
  assert.deepEqual(classColour(0), [0x4e, 0x79, 0xa7]);
  assert.deepEqual(classColour(9), TABLEAU_10[9]);
  const extra = Array.from({ length: 20 }, (_, i) => classColour(10 + i).join(','));
  assert.equal(new Set(extra).size, 20, 'classes beyond 10 get distinct colours');
  assert.deepEqual(parseCssColour('#f48771', [0, 0, 0]), [0xf4, 0x87, 0x71]);
  assert.deepEqual(parseCssColour(' #abc ', [0, 0, 0]), [0xaa, 0xbb, 0xcc]);
  assert.deepEqual(parseCssColour('rgba(229, 83, 75, 0.5)', [0, 0, 0]), [229, 83, 75]);
  assert.deepEqual(parseCssColour('var(--x)', [1, 2, 3]), [1, 2, 3]);
});
