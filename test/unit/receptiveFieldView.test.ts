/**
 * The receptive-field parts of the views without VS Code: validation of the overlay's messages,
 * the hover line, and the Activations view's unit selection run through the real engine jobs on
 * the sample model — the box sent to the webview is the unit's theoretical field and the heat
 * map it overlays is zero outside that field (no gradient can reach beyond it).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MAX_ERF_IMAGES, validateActivationsMessage, validateModelEditorMessage } from '../../src/protocol';
import { receptiveFieldHoverLine } from '../../src/receptiveField/format';
import { erfJobArgs, overlaySummary, toWireErf } from '../../src/activations/unitReceptiveField';
import { JOBS, clearModelCache, type JobContext } from '../../src/engine/jobs';
import { unitReceptiveBox } from '../../src/engine/analyses/receptiveField';
import { assertNoLeak, useWasm } from './analysisFixtures';

const root = path.resolve(__dirname, '../../..');
const model = path.join(root, 'samples/fashion-mnist-cnn/model.json');
const pngDir = path.join(root, 'samples/data/fashion-mnist-1000');

test('overlay messages: a unit is two indices, images bounded, no paths', () => {
  assert.deepEqual(validateActivationsMessage({ type: 'selectUnit', layer: 'conv2', channel: 3, unit: [4, 5], images: 0 }), {
    type: 'selectUnit',
    layer: 'conv2',
    channel: 3,
    unit: [4, 5],
    images: 0,
  });
  assert.deepEqual(validateActivationsMessage({ type: 'selectUnit', layer: 'conv2', channel: 0, unit: [0, 0], images: MAX_ERF_IMAGES }), {
    type: 'selectUnit',
    layer: 'conv2',
    channel: 0,
    unit: [0, 0],
    images: MAX_ERF_IMAGES,
  });
  for (const bad of [
    { unit: [1] },
    { unit: [1, 2, 3] },
    { unit: [-1, 2] },
    { unit: [1.5, 2] },
    { unit: '1,2' },
    { channel: -1 },
    { images: MAX_ERF_IMAGES + 1 },
    { layer: '' },
    { image: '/etc/passwd' },
  ]) {
    assert.equal(validateActivationsMessage({ type: 'selectUnit', layer: 'conv2', channel: 0, unit: [0, 0], images: 0, ...bad }), undefined, JSON.stringify(bad));
  }
  assert.deepEqual(validateActivationsMessage({ type: 'overlayRendered', layer: 'conv2', channel: 1, unit: [2, 3], box: true, heatmap: false }), {
    type: 'overlayRendered',
    layer: 'conv2',
    channel: 1,
    unit: [2, 3],
    box: true,
    heatmap: false,
  });
  assert.equal(validateActivationsMessage({ type: 'overlayRendered', layer: 'conv2', channel: 1, unit: [2, 3], box: 1, heatmap: false }), undefined);
  // Model editor: the new entry points take no path either.
  assert.deepEqual(validateModelEditorMessage({ type: 'computeEffectiveRf' }), { type: 'computeEffectiveRf' });
  assert.deepEqual(validateModelEditorMessage({ type: 'openEmbedding', layer: 'dense1' }), { type: 'openEmbedding', layer: 'dense1' });
  assert.equal(validateModelEditorMessage({ type: 'computeEffectiveRf', data: '/tmp' }), undefined);
});

test('hover line: size, stride, padding and the ERF radius once computed', () => {
  const base = { name: 'conv2', size: [5, 5] as [number, number], stride: [2, 2] as [number, number], padding: [0, 0] as [number, number], aligned: true };
  assert.equal(receptiveFieldHoverLine(base), 'Receptive field: 5×5, stride 2');
  assert.equal(
    receptiveFieldHoverLine({ ...base, padding: [1, 1], erfRadii: [{ fraction: 0.5, radius: 1.2 }, { fraction: 0.9, radius: 3.14 }] }),
    'Receptive field: 5×5, stride 2, padding 1 (ERF r90 ≈ 3.1 px)',
  );
  assert.equal(receptiveFieldHoverLine({ ...base, size: [26, 26], stride: [26, 26], note: 'global' }), 'Receptive field: 26×26 — global (every input pixel the layer sees)');
  assert.match(receptiveFieldHoverLine({ ...base, stride: [2, 1], aligned: false }), /stride 2×1 — branches not aligned/);
});

test('a selected unit of the sample: theoretical box, heat map zero outside it, errors for bad selections', async () => {
  await useWasm();
  const baseline = tf.memory().numTensors;
  const ctx: JobContext = { signal: new AbortController().signal, backend: 'wasm', progress: () => undefined };
  const cls = fs.readdirSync(pngDir).sort()[0];
  const image = path.join(pngDir, cls, fs.readdirSync(path.join(pngDir, cls)).sort()[0]);
  const shown = await JOBS.activations({ model, image }, ctx);
  const spatial = shown.layers.filter((l) => l.shape.length === 3);
  assert.ok(spatial.length >= 2, 'the sample has conv layers');
  const layer = spatial[1];
  const [h, w, c] = layer.shape;

  // Bad selections are refused before the engine runs, naming the problem.
  const file = { kind: 'file' as const, file: image };
  const pick = (over: object, datasetSize?: number) => erfJobArgs(model, shown, file, { layer: layer.layer, channel: 0, unit: [0, 0], images: 0, ...over }, datasetSize);
  assert.match((pick({ layer: 'nope' }) as { error: string }).error, /Layer "nope" is not shown/);
  assert.match((pick({ channel: c }) as { error: string }).error, new RegExp(`has ${c} channels; there is no channel ${c}`));
  assert.match((pick({ unit: [h, 0] }) as { error: string }).error, new RegExp(`is ${h}×${w}; there is no unit \\(${h}, 0\\)`));
  assert.match((pick({ images: 16 }) as { error: string }).error, /no dataset configured/);
  const dense = shown.layers.find((l) => l.shape.length === 1);
  if (dense) assert.match((pick({ layer: dense.layer }) as { error: string }).error, /no spatial feature map/);
  assert.deepEqual(pick({ images: 5000 }, 1000), { args: { model, layer: layer.layer, channel: 0, unit: [0, 0], limit: 1000 } });
  assert.deepEqual(erfJobArgs(model, shown, { kind: 'dataset', index: 7 }, { layer: layer.layer, channel: 0, unit: [0, 0], images: 0 }, 1000), {
    args: { model, layer: layer.layer, channel: 0, unit: [0, 0], start: 7, limit: 1 },
  });

  // A corner unit and a centre unit over the image on show.
  const rf = (await JOBS.receptiveField({ model }, ctx)).layers.find((l) => l.name === layer.layer)!;
  for (const unit of [
    [0, 0],
    [Math.floor(h / 2), Math.floor(w / 2)],
  ] as [number, number][]) {
    const request = pick({ unit, channel: 1 });
    assert.ok('args' in request, JSON.stringify(request));
    assert.equal(request.args.image, image);
    const result = await JOBS.effectiveReceptiveField(request.args, ctx);
    const wire = toWireErf(result);
    const summary = overlaySummary(result);
    assert.deepEqual(wire.theoretical?.box, unitReceptiveBox(rf, unit), 'the box is the unit’s theoretical field');
    assert.deepEqual(summary.box, wire.theoretical?.box);
    assert.deepEqual(summary.heatmapSize, [28, 28]);
    assert.equal(wire.heatmap.length, 28 * 28);
    const [top, left, bottom, right] = wire.theoretical!.box;
    let inside = 0;
    for (let p = 0; p < wire.heatmap.length; p++) {
      const y = Math.floor(p / 28);
      const x = p % 28;
      const within = y >= top && y <= bottom && x >= left && x <= right;
      if (!within) assert.equal(wire.heatmap[p], 0, `pixel (${y}, ${x}) outside the field has no gradient`);
      else inside = Math.max(inside, wire.heatmap[p]);
    }
    if (result.note && /zero gradient on all/.test(result.note)) {
      assert.equal(summary.heatmapMax, 0);
    } else {
      assert.equal(summary.heatmapMax, 1, 'the heat map is scaled to max 1');
      assert.equal(inside, 1);
      const r50 = summary.radii.find((r) => r.fraction === 0.5)!.radius;
      const r90 = summary.radii.find((r) => r.fraction === 0.9)!.radius;
      assert.ok(r50 > 0 && r50 <= r90, `radii ${r50} ≤ ${r90}`);
      assert.ok(r90 <= Math.hypot(rf.size[0], rf.size[1]), 'the 90% radius lies within the field');
    }
  }
  clearModelCache();
  await new Promise((r) => setTimeout(r, 50));
  assertNoLeak(baseline, 'activations + receptive field jobs');
});
