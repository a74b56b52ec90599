/**
 * Pure logic of the dead-filter features (src/deadFilters/logic.ts, markdown.ts, charts.ts,
 * fingerprint.ts): finding a layer's line in model.json text whatever its formatting, the string
 * under the cursor, diagnostic messages, invalidation keys, histograms and the Markdown built
 * for hovers and the report.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  deadMessage,
  deadUnitsByLayer,
  dyingMessage,
  findJsonString,
  findLayerRange,
  firingRateHistogram,
  isModelFileName,
  layerBadge,
  layerNamesInModelJson,
  layerProblems,
  modelKey,
  offsetToPosition,
  settingsKey,
  stampsKey,
  stringAtPosition,
  weightShardPaths,
  withDyingThreshold,
} from '../../src/deadFilters/logic';
import { hoverMarkdown, reportMarkdown, type StoredScan } from '../../src/deadFilters/markdown';
import { histogramImage, filterTilesImage } from '../../src/deadFilters/charts';
import { inputsKey, modelInputFiles } from '../../src/deadFilters/fingerprint';
import type { ScanLayerResult } from '../../src/engine/analyses/scan';

const repo = path.resolve(__dirname, '../../..');
const fixture = path.join(repo, 'test/fixtures/models/tfjs_layers/model.json');

function layer(partial: Partial<ScanLayerResult> & { name: string }): ScanLayerResult {
  const units = partial.units ?? 32;
  return {
    className: 'Conv2D',
    point: partial.name,
    activation: 'relu',
    units,
    deadApplicable: true,
    reason: 'relu',
    dead: [],
    dying: [],
    firingCount: new Array(units).fill(10),
    firingRate: new Array(units).fill(0.5),
    mean: new Array(units).fill(0.1),
    max: new Array(units).fill(1),
    ...partial,
  };
}

test('findLayerRange: minified fixture model.json, the layer config name, not the weights manifest', () => {
  const text = fs.readFileSync(fixture, 'utf8');
  const r = findLayerRange(text, 'conv2d_1');
  assert.ok(r);
  assert.equal(r.line, 0);
  assert.equal(text.slice(r.start, r.end), '"conv2d_1"');
  // It is the layer's own "name" key inside modelTopology, before the manifest's "conv2d_1/kernel".
  assert.ok(r.start < text.indexOf('"weightsManifest"'));
  assert.match(text.slice(r.start - 12, r.start), /"name":\s*$/);
});

test('findLayerRange: pretty-printed, odd whitespace, the right line; model name and inbound_nodes do not match', () => {
  const json = {
    format: 'layers-model',
    modelTopology: {
      model_config: {
        class_name: 'Functional',
        config: {
          name: 'conv2',
          layers: [
            { class_name: 'InputLayer', name: 'input', config: { name: 'input' }, inbound_nodes: [] },
            { class_name: 'Conv2D', name: 'conv1', config: { name: 'conv1' }, inbound_nodes: [[['input', 0, 0, {}]]] },
            { class_name: 'Conv2D', name: 'conv2', config: { name: 'conv2' }, inbound_nodes: [[['conv1', 0, 0, {}]]] },
          ],
        },
      },
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'conv2/kernel' }] }],
  };
  const pretty = JSON.stringify(json, null, 2);
  const r = findLayerRange(pretty, 'conv1');
  assert.ok(r);
  const lines = pretty.split('\n');
  assert.match(lines[r.line], /"name": "conv1"/);
  assert.equal(lines[r.line].slice(r.start, r.end), '"conv1"');
  // "conv2" is also the model's name (first) — still a "name" key, acceptable: it is the first declaration.
  const weird = pretty.replace(/"name": "conv1"/g, '"name"  :\t"conv1"');
  const r2 = findLayerRange(weird, 'conv1');
  assert.ok(r2);
  assert.equal(weird.split('\n')[r2.line].slice(r2.start, r2.end), '"conv1"');
  assert.equal(findLayerRange(pretty, 'missing'), undefined);
  // Escaped characters in a name.
  const esc = '{"modelTopology": {"layers": [{"config": {"name": "a\\/b\\u0041"}}]}}';
  const r3 = findLayerRange(esc, 'a/bA');
  assert.ok(r3);
  assert.equal(esc.slice(r3.start, r3.end), '"a\\/b\\u0041"');
});

test('findJsonString and offsetToPosition', () => {
  const text = '{\n  "dataset": "../data",\n  "penultimateLayer": "dense_1"\n}\n';
  assert.deepEqual(findJsonString(text, 'dense_1'), { line: 2, start: 22, end: 31 });
  assert.equal(findJsonString(text, 'dense'), undefined);
  assert.deepEqual(offsetToPosition(text, 0), { line: 0, character: 0 });
  assert.deepEqual(offsetToPosition(text, text.indexOf('"dataset"')), { line: 1, character: 2 });
});

test('layerNamesInModelJson and weightShardPaths from the fixture', () => {
  const text = fs.readFileSync(fixture, 'utf8');
  const names = layerNamesInModelJson(text).map((l) => l.name);
  assert.ok(names.includes('conv2d'));
  assert.ok(names.includes('conv2d_1'));
  assert.deepEqual(weightShardPaths(text), ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
  assert.deepEqual(layerNamesInModelJson('not json'), []);
  assert.deepEqual(weightShardPaths('{'), []);
});

test('stringAtPosition: double, single and back quotes; escapes; outside any string', () => {
  const py = `    x = layers.Conv2D(32, 3, name='conv2d_1')(x)  # "note"`;
  const at = py.indexOf('conv2d_1') + 2;
  assert.deepEqual(stringAtPosition(py, at), { value: 'conv2d_1', start: py.indexOf('conv2d_1'), end: py.indexOf('conv2d_1') + 8 });
  assert.equal(stringAtPosition(py, py.indexOf('Conv2D')), undefined);
  assert.equal(stringAtPosition(py, py.indexOf('note'))?.value, 'note');
  const ts = 'model.getLayer(`dense`); const s = "a\\"b";';
  assert.equal(stringAtPosition(ts, ts.indexOf('dense'))?.value, 'dense');
  assert.equal(stringAtPosition(ts, ts.indexOf('a\\'))?.value, 'a"b');
  assert.equal(stringAtPosition('"unterminated', 3), undefined);
});

test('diagnostic messages: dead and dying, filters vs units, thousands separators, singular', () => {
  const l = layer({ name: 'conv2d_1', dead: [1, 2, 3, 4, 5, 6, 7], dying: [9, 10] });
  assert.equal(deadMessage(l, 1000), 'conv2d_1: 7 of 32 filters never fire on 1,000 images (dead)');
  assert.equal(dyingMessage(l, 1000, 0.01), 'conv2d_1: 2 of 32 filters fire on fewer than 1% of 1,000 images (dying)');
  const d = layer({ name: 'dense', className: 'Dense', units: 128, dead: [0] });
  assert.equal(deadMessage(d, 1), 'dense: 1 of 128 units never fires on 1 image (dead)');
  assert.equal(dyingMessage(layer({ name: 'c', dying: [1] }), 12345, 0.005), 'c: 1 of 32 filters fires on fewer than 0.5% of 12,345 images (dying)');
  const problems = layerProblems({ images: 1000, dyingThreshold: 0.01, layers: [l, layer({ name: 'ok' }), d] });
  assert.deepEqual(
    problems.map((p) => [p.layer, p.severity]),
    [
      ['conv2d_1', 'dead'],
      ['conv2d_1', 'dying'],
      ['dense', 'dead'],
    ],
  );
  assert.deepEqual(deadUnitsByLayer({ layers: [l, layer({ name: 'ok' })] }), { conv2d_1: [1, 2, 3, 4, 5, 6, 7] });
  assert.equal(layerBadge(l), '7 dead, 2 dying');
  assert.equal(layerBadge(layer({ name: 'ok' })), '');
  assert.equal(layerBadge(undefined), '');
});

test('invalidation keys: order-independent, change with size / mtime / existence / settings', () => {
  const a = { path: '/m/model.json', exists: true, size: 10, mtimeMs: 1000.2 };
  const b = { path: '/m/w.bin', exists: true, size: 20, mtimeMs: 2000 };
  assert.equal(stampsKey([a, b]), stampsKey([b, a]));
  assert.notEqual(stampsKey([a, b]), stampsKey([a, { ...b, size: 21 }]));
  assert.notEqual(stampsKey([a, b]), stampsKey([a, { ...b, mtimeMs: 2500 }]));
  assert.notEqual(stampsKey([a, b]), stampsKey([a, { ...b, exists: false }]));
  assert.notEqual(settingsKey({ dataset: '/d1' }), settingsKey({ dataset: '/d2' }));
  assert.equal(settingsKey({ dataset: '/d', sampleCount: 0 }), settingsKey({ dataset: '/d' }));
  assert.notEqual(settingsKey({ dataset: '/d', sampleCount: 100 }), settingsKey({ dataset: '/d' }));
  assert.equal(modelKey('C:\\M\\Model.json', 'win32'), 'c:/m/model.json');
  assert.equal(modelKey('/M/model.json', 'linux'), '/M/model.json');
  assert.ok(isModelFileName('/a/model.json') && isModelFileName('x.H5') && isModelFileName('m.keras'));
  assert.ok(!isModelFileName('/a/model.txt') && !isModelFileName('h5'));
});

test('inputsKey: changes when the model, a shard, cnnlens.json or the dataset changes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnlens-df-'));
  try {
    const modelDir = path.join(dir, 'model');
    fs.cpSync(path.dirname(fixture), modelDir, { recursive: true });
    const model = path.join(modelDir, 'model.json');
    const data = path.join(dir, 'data');
    fs.mkdirSync(path.join(data, 'cat'), { recursive: true });
    fs.writeFileSync(path.join(data, 'cat', 'a.png'), 'x');
    const files = await modelInputFiles(model);
    assert.deepEqual(files.map((f) => path.basename(f)).sort(), ['cnnlens.json', 'group1-shard1of2.bin', 'group1-shard2of2.bin', 'model.json']);

    const k0 = await inputsKey(model, data);
    assert.equal(await inputsKey(model, data), k0, 'stable');
    const bump = (f: string) => fs.utimesSync(f, new Date(), new Date(Date.now() + 5000));

    bump(path.join(modelDir, 'group1-shard2of2.bin'));
    const k1 = await inputsKey(model, data);
    assert.notEqual(k1, k0, 'shard touched');

    fs.writeFileSync(path.join(modelDir, 'cnnlens.json'), '{}');
    const k2 = await inputsKey(model, data);
    assert.notEqual(k2, k1, 'cnnlens.json created');

    fs.writeFileSync(path.join(data, 'cat', 'b.png'), 'y');
    const k3 = await inputsKey(model, data);
    assert.notEqual(k3, k2, 'image added to a class folder');

    fs.mkdirSync(path.join(data, 'dog'));
    assert.notEqual(await inputsKey(model, data), k3, 'class folder added');
    assert.notEqual(await inputsKey(model, undefined), await inputsKey(model, data));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('firing-rate histogram: dead in bin 0, rates binned over (0, 1]', () => {
  assert.deepEqual(firingRateHistogram([0, 0, 0.05, 0.1, 0.5, 1], 10), [2, 2, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const img = histogramImage([0, 0.5, 1], { dyingThreshold: 0.01 });
  assert.equal(img.data.length, img.width * img.height * 4);
  // A red pixel exists (the dead bar).
  let red = false;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i] === 229 && img.data[i + 1] === 83 && img.data[i + 3] === 255) red = true;
  assert.ok(red);
});

test('filter tiles of listed dead filters only, per-channel tiles averaged', () => {
  const kh = 3;
  const kw = 3;
  const tilesPerFilter = 2;
  const filters = 4;
  const tiles = new Float32Array(filters * tilesPerFilter * kh * kw).fill(0.5);
  const layerTiles = {
    layer: 'c',
    className: 'Conv2D',
    kind: 'conv' as const,
    kernelHeight: kh,
    kernelWidth: kw,
    inChannels: 2,
    filters,
    mode: 'per-channel' as const,
    tileChannels: 1,
    tilesPerFilter,
    tiles,
    weightMin: new Float32Array(filters),
    weightMax: new Float32Array(filters),
    roughness: [],
    structureZ: [],
    noisy: [],
    noisyZ: 1.96,
    perFilterTest: false,
    layerRoughness: null,
    layerStructureZ: null,
    histogram: { min: 0, max: 1, counts: [], binWidth: 0.1 } as never,
  };
  const img = filterTilesImage(layerTiles, [1, 3]);
  assert.ok(img);
  const one = filterTilesImage(layerTiles, [1]);
  assert.ok(one && img.width > one.width, 'two tiles are wider than one');
  assert.equal(filterTilesImage(layerTiles, [99]), undefined);
});

test('hover and report Markdown carry the counts, shapes, images and the report link', () => {
  const l = layer({ name: 'conv2d_1', dead: [1, 2, 3], dying: [4] });
  const md = hoverMarkdown({
    layerName: 'conv2d_1',
    modelLabel: 'm/model.json',
    summary: {
      name: 'conv2d_1',
      className: 'Conv2D',
      inbound: [],
      inputShapes: [],
      outputShape: [null, 13, 13, 32],
      trainableParams: 9248,
      nonTrainableParams: 0,
      params: 9248,
      activation: 'relu',
      flops: 1,
    },
    scan: { layer: l, images: 1000, dyingThreshold: 0.01, histogram: 'data:image/png;base64,AAA', deadTiles: 'data:image/png;base64,BBB' },
    reportCommand: 'command:cnnLens.showScanReport?x',
  });
  assert.match(md, /\*\*3 dead\*\* · 1 dying · 28 alive of 32 filters/);
  assert.match(md, /\[None, 13, 13, 32\]/);
  assert.match(md, /9,248/);
  assert.match(md, /!\[firing-rate histogram\]\(data:image\/png;base64,AAA\)/);
  assert.match(md, /!\[dead filter tiles\]\(data:image\/png;base64,BBB\)/);
  assert.match(md, /Dead: #1, #2, #3/);
  assert.match(md, /\[Open scan report\]\(command:cnnLens\.showScanReport\?x\)/);

  const stored: StoredScan = {
    model: '/m/model.json',
    key: 'k',
    scannedAt: 0,
    report: {
      images: 1000,
      dyingThreshold: 0.01,
      layers: [l, layer({ name: 'dense', className: 'Dense', deadApplicable: false, reason: 'linear activation' })],
      backend: 'wasm',
      seconds: 1.5,
      dataset: { path: '/data', kind: 'image-folder', size: 1000, skipped: [], dyingThreshold: 0.01 },
      skipped: [],
    },
    histograms: { conv2d_1: 'data:image/png;base64,H' },
    deadTiles: { conv2d_1: 'data:image/png;base64,T' },
  };
  const report = reportMarkdown(stored, undefined, 'm/model.json');
  assert.match(report, /\| conv2d\\_1 \| Conv2D \| relu \| 32 \| 3 \| 1 \| 28 \|/);
  assert.match(report, /\| dense \| Dense \| relu \| 32 \| — \| — \| — \|/);
  assert.match(report, /data:image\/png;base64,H/);
  assert.match(report, /data:image\/png;base64,T/);
  assert.match(report, /\*\*3 dead\*\* and 1 dying of 64 units in 2 layers/);
});

test('withDyingThreshold re-derives dying units from firing rates; dead units stay dead, not dying', () => {
  const rates = [0, 0.002, 0.009, 0.03, 0.5, 0];
  const l = layer({ name: 'conv1', units: rates.length, firingRate: rates, dead: [0, 5], dying: [1, 2] });
  const report = { images: 1000, dyingThreshold: 0.01, layers: [l, layer({ name: 'flat', deadApplicable: false, dead: [], dying: [] })] };
  const looser = withDyingThreshold(report, 0.05);
  assert.equal(looser.dyingThreshold, 0.05);
  assert.deepEqual(looser.layers[0].dying, [1, 2, 3]);
  assert.deepEqual(looser.layers[0].dead, [0, 5]);
  assert.equal(looser.layers[1], report.layers[1], 'layers where dead/dying does not apply are left alone');
  assert.deepEqual(withDyingThreshold(report, 0.005).layers[0].dying, [1]);
  assert.deepEqual(report.layers[0].dying, [1, 2], 'the input report is not modified');
  assert.throws(() => withDyingThreshold(report, 2), /between 0 and 1/);
});
