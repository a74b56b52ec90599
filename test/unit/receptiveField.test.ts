/**
 * Theoretical receptive fields (src/engine/analyses/receptiveField.ts):
 * - the TF-Slim networks rebuilt in TF.js (test/unit/slimNets.ts) against the published table of
 *   google-research/receptive_field, every end-point it lists at 224 and 321 pixels;
 * - each layer type (dilation, 'same' / 'valid' on odd and even sizes, depthwise, separable,
 *   pooling, ZeroPadding2D / Cropping2D, merges aligned or not, global layers) against hand
 *   computation AND against what the layers really do: one impulse image per input pixel goes
 *   through a model with non-negative weights (nothing cancels), and the pixels that reach an
 *   output unit must span exactly the unit's box, clipped to the image;
 * - the bundled Fashion-MNIST CNN (trained weights): its classifier never sees the last two rows
 *   and columns, so changing them leaves every prediction bit-identical;
 * - the TF.js Graph fixture, read from node attributes.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { receptiveField, unitReceptiveBox, type LayerReceptiveField, type ReceptiveFieldReport } from '../../src/engine/analyses/receptiveField';
import type { InspectableModel, LayerNode } from '../../src/engine/model/inspectableModel';
import { loadModel } from '../../src/engine/io/models';
import { loadSingleImage } from '../../src/engine/io/datasets';
import { loadCnnLensConfig } from '../../src/engine/config/cnnlensConfig';
import { assertNoLeak, useWasm, wrap } from './analysisFixtures';
import { alexnetV2, inceptionV3, resnetV1_50, vgg } from './slimNets';

before(useWasm);

const root = path.resolve(__dirname, '../../..');

// ---------------------------------------------------------------------------------------------
// The published table

/**
 * Rows copied verbatim from google-research/receptive_field, receptive_field/RECEPTIVE_FIELD_TABLE.md
 * ("Pre-computed receptive field parameters", computed with rf_benchmark.py on the TF-Slim nets):
 * CNN | resolution | end-point | FLOPs (Billion) | RF | effective stride | effective padding.
 * Only the rows with a resolution: the engine always knows the model's input size (the 'None'
 * rows leave 'SAME' padding undefined). FLOPs are not checked here (channels are shrunk).
 */
const PUBLISHED = `
alexnet_v2                     | 224        | alexnet_v2/conv1     | 0.136           | 11   | 4                | 0
alexnet_v2                     | 224        | alexnet_v2/pool1     | 0.136           | 19   | 8                | 0
alexnet_v2                     | 224        | alexnet_v2/conv2     | 0.552           | 51   | 8                | 16
alexnet_v2                     | 224        | alexnet_v2/conv3     | 0.743           | 99   | 16               | 32
alexnet_v2                     | 224        | alexnet_v2/conv4     | 1.125           | 131  | 16               | 48
alexnet_v2                     | 224        | alexnet_v2/conv5     | 1.380           | 163  | 16               | 64
alexnet_v2                     | 224        | alexnet_v2/pool5     | 1.380           | 195  | 32               | 64
alexnet_v2                     | 321        | alexnet_v2/conv1     | 0.283           | 11   | 4                | 0
alexnet_v2                     | 321        | alexnet_v2/pool1     | 0.284           | 19   | 8                | 0
alexnet_v2                     | 321        | alexnet_v2/conv2     | 1.171           | 51   | 8                | 16
alexnet_v2                     | 321        | alexnet_v2/conv3     | 1.602           | 99   | 16               | 32
alexnet_v2                     | 321        | alexnet_v2/conv4     | 2.462           | 131  | 16               | 48
alexnet_v2                     | 321        | alexnet_v2/conv5     | 3.036           | 163  | 16               | 64
alexnet_v2                     | 321        | alexnet_v2/pool5     | 3.036           | 195  | 32               | 64
vgg_a                          | 224        | vgg_a/conv1/conv1_1  | 0.177           | 3    | 1                | 1
vgg_a                          | 224        | vgg_a/pool1          | 0.180           | 4    | 2                | 1
vgg_a                          | 224        | vgg_a/conv2/conv2_1  | 2.031           | 8    | 2                | 3
vgg_a                          | 224        | vgg_a/pool2          | 2.033           | 10   | 4                | 3
vgg_a                          | 224        | vgg_a/conv3/conv3_1  | 3.883           | 18   | 4                | 7
vgg_a                          | 224        | vgg_a/conv3/conv3_2  | 7.583           | 26   | 4                | 11
vgg_a                          | 224        | vgg_a/pool3          | 7.584           | 30   | 8                | 11
vgg_a                          | 224        | vgg_a/conv4/conv4_1  | 9.434           | 46   | 8                | 19
vgg_a                          | 224        | vgg_a/conv4/conv4_2  | 13.134          | 62   | 8                | 27
vgg_a                          | 224        | vgg_a/pool4          | 13.134          | 70   | 16               | 27
vgg_a                          | 224        | vgg_a/conv5/conv5_1  | 14.059          | 102  | 16               | 43
vgg_a                          | 224        | vgg_a/conv5/conv5_2  | 14.984          | 134  | 16               | 59
vgg_a                          | 224        | vgg_a/pool5          | 14.984          | 150  | 32               | 59
vgg_a                          | 321        | vgg_a/conv1/conv1_1  | 0.363           | 3    | 1                | 1
vgg_a                          | 321        | vgg_a/pool1          | 0.369           | 4    | 2                | 1
vgg_a                          | 321        | vgg_a/conv2/conv2_1  | 4.147           | 8    | 2                | 3
vgg_a                          | 321        | vgg_a/pool2          | 4.151           | 10   | 4                | 3
vgg_a                          | 321        | vgg_a/conv3/conv3_1  | 7.927           | 18   | 4                | 7
vgg_a                          | 321        | vgg_a/conv3/conv3_2  | 15.479          | 26   | 4                | 11
vgg_a                          | 321        | vgg_a/pool3          | 15.480          | 30   | 8                | 11
vgg_a                          | 321        | vgg_a/conv4/conv4_1  | 19.256          | 46   | 8                | 19
vgg_a                          | 321        | vgg_a/conv4/conv4_2  | 26.806          | 62   | 8                | 27
vgg_a                          | 321        | vgg_a/pool4          | 26.807          | 70   | 16               | 27
vgg_a                          | 321        | vgg_a/conv5/conv5_1  | 28.695          | 102  | 16               | 43
vgg_a                          | 321        | vgg_a/conv5/conv5_2  | 30.583          | 134  | 16               | 59
vgg_a                          | 321        | vgg_a/pool5          | 30.583          | 150  | 32               | 59
vgg_16                         | 224        | vgg_16/conv1/conv1_1 | 0.177           | 3    | 1                | 1
vgg_16                         | 224        | vgg_16/pool1         | 3.882           | 6    | 2                | 2
vgg_16                         | 224        | vgg_16/conv2/conv2_1 | 5.734           | 10   | 2                | 4
vgg_16                         | 224        | vgg_16/pool2         | 9.436           | 16   | 4                | 6
vgg_16                         | 224        | vgg_16/conv3/conv3_1 | 11.287          | 24   | 4                | 10
vgg_16                         | 224        | vgg_16/conv3/conv3_2 | 14.987          | 32   | 4                | 14
vgg_16                         | 224        | vgg_16/pool3         | 18.688          | 44   | 8                | 18
vgg_16                         | 224        | vgg_16/conv4/conv4_1 | 20.538          | 60   | 8                | 26
vgg_16                         | 224        | vgg_16/conv4/conv4_2 | 24.238          | 76   | 8                | 34
vgg_16                         | 224        | vgg_16/pool4         | 27.938          | 100  | 16               | 42
vgg_16                         | 224        | vgg_16/conv5/conv5_1 | 28.863          | 132  | 16               | 58
vgg_16                         | 224        | vgg_16/conv5/conv5_2 | 29.788          | 164  | 16               | 74
vgg_16                         | 224        | vgg_16/pool5         | 30.713          | 212  | 32               | 90
vgg_16                         | 321        | vgg_16/conv1/conv1_1 | 0.363           | 3    | 1                | 1
vgg_16                         | 321        | vgg_16/pool1         | 7.973           | 6    | 2                | 2
vgg_16                         | 321        | vgg_16/conv2/conv2_1 | 11.751          | 10   | 2                | 4
vgg_16                         | 321        | vgg_16/pool2         | 19.307          | 16   | 4                | 6
vgg_16                         | 321        | vgg_16/conv3/conv3_1 | 23.084          | 24   | 4                | 10
vgg_16                         | 321        | vgg_16/conv3/conv3_2 | 30.635          | 32   | 4                | 14
vgg_16                         | 321        | vgg_16/pool3         | 38.188          | 44   | 8                | 18
vgg_16                         | 321        | vgg_16/conv4/conv4_1 | 41.964          | 60   | 8                | 26
vgg_16                         | 321        | vgg_16/conv4/conv4_2 | 49.514          | 76   | 8                | 34
vgg_16                         | 321        | vgg_16/pool4         | 57.066          | 100  | 16               | 42
vgg_16                         | 321        | vgg_16/conv5/conv5_1 | 58.954          | 132  | 16               | 58
vgg_16                         | 321        | vgg_16/conv5/conv5_2 | 60.841          | 164  | 16               | 74
vgg_16                         | 321        | vgg_16/pool5         | 62.729          | 212  | 32               | 90
inception_v3                   | 224        | Conv2d_1a_3x3        | 0.022           | 3    | 2                | 0
inception_v3                   | 224        | Conv2d_2a_3x3        | 0.241           | 7    | 2                | 0
inception_v3                   | 224        | Conv2d_2b_3x3        | 0.680           | 11   | 2                | 2
inception_v3                   | 224        | MaxPool_3a_3x3       | 0.681           | 15   | 4                | 2
inception_v3                   | 224        | Conv2d_3b_1x1        | 0.712           | 15   | 4                | 2
inception_v3                   | 224        | Conv2d_4a_3x3        | 1.460           | 23   | 4                | 2
inception_v3                   | 224        | MaxPool_5a_3x3       | 1.461           | 31   | 8                | 2
inception_v3                   | 224        | Mixed_5b             | 1.781           | 63   | 8                | 18
inception_v3                   | 224        | Mixed_5c             | 2.128           | 95   | 8                | 34
inception_v3                   | 224        | Mixed_5d             | 2.485           | 127  | 8                | 50
inception_v3                   | 224        | Mixed_6a             | 2.889           | 159  | 16               | 58
inception_v3                   | 224        | Mixed_6b             | 3.263           | 351  | 16               | 154
inception_v3                   | 224        | Mixed_6c             | 3.750           | 543  | 16               | 250
inception_v3                   | 224        | Mixed_6d             | 4.237           | 735  | 16               | 346
inception_v3                   | 224        | Mixed_6e             | 4.854           | 927  | 16               | 442
inception_v3                   | 224        | Mixed_7a             | 5.132           | 1055 | 32               | 490
inception_v3                   | 224        | Mixed_7b             | 5.385           | 1183 | 32               | 554
inception_v3                   | 224        | Mixed_7c             | 5.689           | 1311 | 32               | 618
inception_v3                   | 321        | Conv2d_1a_3x3        | 0.045           | 3    | 2                | 0
inception_v3                   | 321        | Conv2d_2a_3x3        | 0.506           | 7    | 2                | 0
inception_v3                   | 321        | Conv2d_2b_3x3        | 1.428           | 11   | 2                | 2
inception_v3                   | 321        | MaxPool_3a_3x3       | 1.431           | 15   | 4                | 2
inception_v3                   | 321        | Conv2d_3b_1x1        | 1.494           | 15   | 4                | 2
inception_v3                   | 321        | Conv2d_4a_3x3        | 3.092           | 23   | 4                | 2
inception_v3                   | 321        | MaxPool_5a_3x3       | 3.095           | 31   | 8                | 2
inception_v3                   | 321        | Mixed_5b             | 3.796           | 63   | 8                | 18
inception_v3                   | 321        | Mixed_5c             | 4.557           | 95   | 8                | 34
inception_v3                   | 321        | Mixed_5d             | 5.339           | 127  | 8                | 50
inception_v3                   | 321        | Mixed_6a             | 6.241           | 159  | 16               | 58
inception_v3                   | 321        | Mixed_6b             | 7.082           | 351  | 16               | 154
inception_v3                   | 321        | Mixed_6c             | 8.178           | 543  | 16               | 250
inception_v3                   | 321        | Mixed_6d             | 9.275           | 735  | 16               | 346
inception_v3                   | 321        | Mixed_6e             | 10.663          | 927  | 16               | 442
inception_v3                   | 321        | Mixed_7a             | 11.303          | 1055 | 32               | 490
inception_v3                   | 321        | Mixed_7b             | 11.948          | 1183 | 32               | 554
inception_v3                   | 321        | Mixed_7c             | 12.727          | 1311 | 32               | 618
resnet_v1_50                   | 224        | resnet_v1_50/block1  | 1.323           | 35   | 8                | 15
resnet_v1_50                   | 224        | resnet_v1_50/block2  | 2.974           | 99   | 16               | 47
resnet_v1_50                   | 224        | resnet_v1_50/block3  | 5.498           | 291  | 32               | 143
resnet_v1_50                   | 224        | resnet_v1_50/block4  | 6.963           | 483  | 32               | 239
resnet_v1_50                   | 321        | resnet_v1_50/block1  | 2.767           | 35   | 8                | 17
resnet_v1_50                   | 321        | resnet_v1_50/block2  | 6.315           | 99   | 16               | 49
resnet_v1_50                   | 321        | resnet_v1_50/block3  | 12.013          | 291  | 32               | 145
resnet_v1_50                   | 321        | resnet_v1_50/block4  | 15.629          | 483  | 32               | 241
`;

interface PublishedRow {
  cnn: string;
  resolution: number;
  endPoint: string;
  rf: number;
  stride: number;
  padding: number;
}

const ROWS: PublishedRow[] = PUBLISHED.trim()
  .split('\n')
  .map((line) => {
    const [cnn, resolution, endPoint, , rf, stride, padding] = line.split('|').map((c) => c.trim());
    return { cnn, resolution: Number(resolution), endPoint, rf: Number(rf), stride: Number(stride), padding: Number(padding) };
  });

const BUILDERS: Record<string, (resolution: number) => tf.LayersModel> = {
  alexnet_v2: alexnetV2,
  vgg_a: (r) => vgg('vgg_a', r),
  vgg_16: (r) => vgg('vgg_16', r),
  resnet_v1_50: resnetV1_50,
  inception_v3: inceptionV3,
};

for (const cnn of Object.keys(BUILDERS)) {
  test(`${cnn}: every end-point of the published table at 224 and 321 pixels`, () => {
    const baseline = tf.memory().numTensors;
    for (const resolution of [224, 321]) {
      const rows = ROWS.filter((r) => r.cnn === cnn && r.resolution === resolution);
      assert.ok(rows.length >= 4, `${cnn} @${resolution}: ${rows.length} rows`);
      const model = wrap(BUILDERS[cnn](resolution), cnn);
      const report = receptiveField(model);
      model.dispose();
      assert.deepEqual(report.input, [resolution, resolution]);
      const byName = new Map(report.layers.map((l) => [l.name, l]));
      for (const row of rows) {
        const layer = row.endPoint.split('/').pop()!;
        const got = byName.get(layer);
        assert.ok(got, `${cnn} @${resolution}: no layer ${layer}`);
        const where = `${cnn} @${resolution} ${row.endPoint}`;
        assert.deepEqual(
          { size: got.size, stride: got.stride, padding: got.padding, aligned: got.aligned },
          { size: [row.rf, row.rf], stride: [row.stride, row.stride], padding: [row.padding, row.padding], aligned: true },
          where,
        );
      }
      // Every layer of these nets is aligned and local (no global layer before fc7).
      for (const l of report.layers) assert.ok(l.aligned && l.note === undefined, `${cnn} ${l.name}: ${JSON.stringify(l)}`);
    }
    assertNoLeak(baseline, cnn);
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring what the layers really see

type Box = [number, number, number, number];

/** The unit's box clipped to the image, or null when it lies wholly outside. */
function clipped(box: Box, h: number, w: number): Box | null {
  const b: Box = [Math.max(box[0], 0), Math.max(box[1], 0), Math.min(box[2], h - 1), Math.min(box[3], w - 1)];
  return b[0] > b[2] || b[1] > b[3] ? null : b;
}

/**
 * For every output unit of `layer`, the bounding box of the input pixels that reach it: one
 * impulse image per pixel through the model (all weights ≥ 0, biases 0, so a positive output
 * means a path exists and nothing cancels). Rank-2 outputs are one unit.
 */
function measuredBoxes(model: InspectableModel, layer: string): { units: [number, number]; box: (y: number, x: number) => Box | null } {
  const { height: h, width: w } = model.input;
  const n = h * w;
  const impulses = tf.tidy(() => tf.oneHot(tf.range(0, n, 1, 'int32'), n).reshape([n, h, w, 1]) as tf.Tensor4D);
  const [out] = model.run(impulses, [layer]);
  impulses.dispose();
  const shape = out.shape;
  const reached = tf.tidy(() => (shape.length === 4 ? out.sum(3) : out.sum(1).reshape([n, 1, 1])).greater(0));
  const data = reached.dataSync();
  const [oh, ow] = shape.length === 4 ? [shape[1]!, shape[2]!] : [1, 1];
  tf.dispose([out, reached]);
  return {
    units: [oh, ow],
    box(y, x) {
      let b: Box | null = null;
      for (let p = 0; p < n; p++) {
        if (!data[p * oh * ow + y * ow + x]) continue;
        const py = Math.floor(p / w);
        const px = p % w;
        b = b ? [Math.min(b[0], py), Math.min(b[1], px), Math.max(b[2], py), Math.max(b[3], px)] : [py, px, py, px];
      }
      return b;
    },
  };
}

/**
 * Checks every unit of every named layer against its theoretical box clipped to the image:
 * - 'exact': the measured box equals it for every unit;
 * - 'interior' (default): equal for units whose box lies inside the image, within it for the
 *   others. The theoretical box counts padded positions; where a field has holes (dilation) or a
 *   padded position falls on a real pixel (a 'same' conv after a crop), a border unit may not
 *   reach every in-image pixel of its box, while its extreme taps are always real inside the image;
 * - 'within': the measured box lies within it (a union over branches with different strides).
 */
function assertBoxesMatch(model: InspectableModel, report: ReceptiveFieldReport, layers: string[], mode: 'exact' | 'interior' | 'within' = 'interior'): void {
  const { height: h, width: w } = model.input;
  for (const name of layers) {
    const rf = report.layers.find((l) => l.name === name)!;
    const m = measuredBoxes(model, name);
    for (let y = 0; y < m.units[0]; y++) {
      for (let x = 0; x < m.units[1]; x++) {
        const box = unitReceptiveBox(rf, [y, x]);
        const expected = clipped(box, h, w);
        const got = m.box(y, x);
        const inside = box[0] >= 0 && box[1] >= 0 && box[2] < h && box[3] < w;
        if (mode === 'exact' || (mode === 'interior' && inside)) assert.deepEqual(got, expected, `${name} unit (${y}, ${x})`);
        else {
          assert.ok(got && expected, `${name} unit (${y}, ${x}): measured ${JSON.stringify(got)}, box ${JSON.stringify(expected)}`);
          assert.ok(got[0] >= expected[0] && got[1] >= expected[1] && got[2] <= expected[2] && got[3] <= expected[3], `${name} unit (${y}, ${x}): ${got} not within ${expected}`);
        }
      }
    }
  }
}

const ones = { kernelInitializer: 'ones', useBias: false } as const;
type T = tf.SymbolicTensor;

function fields(report: ReceptiveFieldReport): Record<string, Pick<LayerReceptiveField, 'size' | 'stride' | 'padding'>> {
  return Object.fromEntries(report.layers.map((l) => [l.name, { size: l.size, stride: l.stride, padding: l.padding }]));
}

test('input layer: size 1, stride 1, padding 0; unitReceptiveBox follows the library’s centre formula', () => {
  const input = tf.input({ shape: [5, 7, 1], name: 'img' });
  const c = tf.layers.conv2d({ filters: 1, kernelSize: [3, 5], strides: [2, 3], padding: 'same', name: 'c', ...ones }).apply(input) as T;
  const model = wrap(tf.model({ inputs: input, outputs: c }));
  const r = receptiveField(model);
  model.dispose();
  assert.deepEqual(r.layers[0], { name: 'img', className: 'InputLayer', size: [1, 1], stride: [1, 1], padding: [0, 0], aligned: true });
  // h: 5 → 3 with k 3, s 2: total pad (3−1)·2+3−5 = 2, top 1. w: 7 → 3 with k 5, s 3: (3−1)·3+5−7 = 4, left 2.
  const c1 = r.layers[1];
  assert.deepEqual([c1.size, c1.stride, c1.padding], [[3, 5], [2, 3], [1, 2]]);
  // receptive_field's ReceptiveField.compute_input_center_coordinates: −padding + y·stride + (size − 1)/2.
  for (const [y, x] of [[0, 0], [2, 1], [1, 2]] as [number, number][]) {
    const [top, left, bottom, right] = unitReceptiveBox(c1, [y, x]);
    assert.equal((top + bottom) / 2, -1 + y * 2 + (3 - 1) / 2);
    assert.equal((left + right) / 2, -2 + x * 3 + (5 - 1) / 2);
    assert.equal(bottom - top + 1, 3);
    assert.equal(right - left + 1, 5);
  }
});

for (const size of [16, 17]) {
  test(`conv / depthwise / separable / pooling with dilation, 'same' and 'valid' on an ${size % 2 ? 'odd' : 'even'} input (${size}×${size})`, () => {
    const baseline = tf.memory().numTensors;
    const input = tf.input({ shape: [size, size, 1], name: 'x' });
    const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', name: 'a', ...ones }).apply(input) as T;
    const b = tf.layers.conv2d({ filters: 1, kernelSize: 3, dilationRate: 2, padding: 'same', name: 'b', ...ones }).apply(a) as T;
    const c = tf.layers.conv2d({ filters: 1, kernelSize: 2, strides: 2, padding: 'same', name: 'c', ...ones }).apply(b) as T;
    const d = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'd' }).apply(c) as T;
    const e = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'e' }).apply(b) as T;
    const f = tf.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'valid', name: 'f', depthwiseInitializer: 'ones', useBias: false }).apply(input) as T;
    const g = tf.layers
      .separableConv2d({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', name: 'g', depthwiseInitializer: 'ones', pointwiseInitializer: 'ones', useBias: false })
      .apply(f) as T;
    const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(g) as T;
    const relu = tf.layers.reLU({ name: 'relu' }).apply(bn) as T;
    const model = wrap(tf.model({ inputs: input, outputs: [d, e, relu] }));
    const r = receptiveField(model);
    const odd = size % 2 === 1;
    // 'same' pads TensorFlow's way: total = max((⌈n/s⌉−1)·s + k − n, 0), top/left = ⌊total/2⌋.
    assert.deepEqual(fields(r), {
      x: { size: [1, 1], stride: [1, 1], padding: [0, 0] },
      // k3 s2: n=16 → total 1, top 0; n=17 → total 2, top 1.
      a: { size: [3, 3], stride: [2, 2], padding: odd ? [1, 1] : [0, 0] },
      // dilation 2: effective kernel 5, 'same' stride 1 pads 2 (in units of stride 2).
      b: { size: [11, 11], stride: [2, 2], padding: odd ? [5, 5] : [4, 4] },
      // k2 s2 on 8 → total 0; on 9 → total 1, top 0.
      c: { size: [13, 13], stride: [4, 4], padding: odd ? [5, 5] : [4, 4] },
      // pool k3 s2 on 4 → total 1, top 0; on 5 → total 2, top 1 (×4).
      d: { size: [21, 21], stride: [8, 8], padding: odd ? [9, 9] : [4, 4] },
      e: { size: [13, 13], stride: [2, 2], padding: odd ? [5, 5] : [4, 4] },
      // TF.js' DepthwiseConv2D ignores dilation_rate (tfjs-layers 4.22 passes none to the op and
      // sizes its output without it), so the model really sees 3×3: reported as such, with a note.
      f: { size: [3, 3], stride: [1, 1], padding: [0, 0] },
      // separable k3 s2 'same' on 14 → total 1, top 0; on 15 → total 2, top 1.
      g: { size: [5, 5], stride: [2, 2], padding: odd ? [1, 1] : [0, 0] },
      bn: { size: [5, 5], stride: [2, 2], padding: odd ? [1, 1] : [0, 0] },
      relu: { size: [5, 5], stride: [2, 2], padding: odd ? [1, 1] : [0, 0] },
    });
    assert.match(r.layers.find((l) => l.name === 'f')!.note!, /dilation_rate \[2,2\] is ignored by TF\.js/);
    assertBoxesMatch(model, r, ['a', 'f', 'g', 'relu'], 'exact');
    // Dilation leaves holes: a border unit may not reach the in-image part of its box.
    assertBoxesMatch(model, r, ['b', 'c', 'd', 'e']);
    model.dispose();
    assertNoLeak(baseline, 'layer types');
  });
}

test('ZeroPadding2D and Cropping2D shift the field; non-square kernels and strides keep their axes', () => {
  const baseline = tf.memory().numTensors;
  const input = tf.input({ shape: [10, 12, 1], name: 'x' });
  const zp = tf.layers.zeroPadding2d({ padding: [[2, 1], [0, 3]], name: 'zp' }).apply(input) as T; // 13×15
  const c1 = tf.layers.conv2d({ filters: 1, kernelSize: 3, name: 'c1', ...ones }).apply(zp) as T; // 11×13
  const crop = tf.layers.cropping2D({ cropping: [[1, 0], [2, 1]], name: 'crop' }).apply(c1) as T; // 10×10
  const c2 = tf.layers.conv2d({ filters: 1, kernelSize: [3, 5], strides: [1, 2], name: 'c2', ...ones }).apply(crop) as T; // 8×3
  const model = wrap(tf.model({ inputs: input, outputs: c2 }));
  const r = receptiveField(model);
  assert.deepEqual(r.input, [10, 12]);
  assert.deepEqual(fields(r), {
    x: { size: [1, 1], stride: [1, 1], padding: [0, 0] },
    zp: { size: [1, 1], stride: [1, 1], padding: [2, 0] },
    c1: { size: [3, 3], stride: [1, 1], padding: [2, 0] },
    // Cropping is negative padding: unit 0 of `crop` is unit (1, 2) of c1.
    crop: { size: [3, 3], stride: [1, 1], padding: [1, -2] },
    c2: { size: [5, 7], stride: [1, 2], padding: [1, -2] },
  });
  assertBoxesMatch(model, r, ['zp', 'c1', 'crop', 'c2'], 'exact');
  model.dispose();
  assertNoLeak(baseline, 'padding / cropping');
});

test('Add of aligned branches is exact; of misaligned branches takes the union and says so', () => {
  const baseline = tf.memory().numTensors;
  const input = tf.input({ shape: [8, 8, 1], name: 'x' });
  const a = tf.layers.conv2d({ filters: 1, kernelSize: 3, name: 'A', ...ones }).apply(input) as T; // rows [y, y+2]
  const shifted = tf.layers.cropping2D({ cropping: [[2, 0], [0, 2]], name: 'shift' }).apply(input) as T;
  const b = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', name: 'B', ...ones }).apply(shifted) as T; // rows [y+1, y+3], cols [x−1, x+1]
  const centred = tf.layers.cropping2D({ cropping: [[1, 1], [1, 1]], name: 'centre' }).apply(input) as T; // [y+1], centred like A
  const sum = tf.layers.add({ name: 'sum' }).apply([a, b]) as T;
  const after = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: 'after', ...ones }).apply(sum) as T;
  const good = tf.layers.add({ name: 'good' }).apply([a, centred]) as T;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([a, centred]) as T;
  const model = wrap(tf.model({ inputs: input, outputs: [after, good, cat] }));
  const r = receptiveField(model);
  const by = new Map(r.layers.map((l) => [l.name, l]));

  assert.deepEqual(fields(r).sum, { size: [4, 4], stride: [1, 1], padding: [0, 1] });
  assert.equal(by.get('sum')!.aligned, false);
  assert.match(by.get('sum')!.note!, /not aligned.*A: size 3×3.*B: size 3×3, stride 1×1, padding -1×1/);
  // Downstream of a misaligned merge the field is still a union.
  assert.equal(by.get('after')!.aligned, false);
  assert.equal(by.get('after')!.note, undefined);
  for (const name of ['good', 'cat']) {
    assert.deepEqual(fields(r)[name], { size: [3, 3], stride: [1, 1], padding: [0, 0] }, name);
    assert.equal(by.get(name)!.aligned, true, name);
    assert.equal(by.get(name)!.note, undefined, name);
  }
  assertBoxesMatch(model, r, ['A', 'sum', 'after', 'good', 'cat']);
  // B's own 'same' padding above crop row 0 lands on input row 1, a real pixel it never reads.
  assertBoxesMatch(model, r, ['B'], 'within');
  model.dispose();
  assertNoLeak(baseline, 'merges');
});

test('Add of branches with different strides: the coarser stride, and a box covering both over every unit', () => {
  const input = tf.input({ shape: [9, 9, 1], name: 'x' });
  const a = tf.layers.conv2d({ filters: 1, kernelSize: 3, strides: 2, name: 'A', ...ones }).apply(input) as T; // 4×4, [2y, 2y+2]
  const b = tf.layers.cropping2D({ cropping: [[0, 5], [0, 5]], name: 'B' }).apply(input) as T; // 4×4, [y, y]
  const sum = tf.layers.add({ name: 'sum' }).apply([a, b]) as T;
  const model = wrap(tf.model({ inputs: input, outputs: sum }));
  const r = receptiveField(model);
  const s = r.layers.find((l) => l.name === 'sum')!;
  // Stride 2; unit 3 needs pixel 3 (padding 2·3 − 3 = 3); unit 0 needs pixel 2 (size 6).
  assert.deepEqual([s.size, s.stride, s.padding, s.aligned], [[6, 6], [2, 2], [3, 3], false]);
  assertBoxesMatch(model, r, ['sum'], 'within');
  model.dispose();
});

test('global pooling, Flatten and Dense cover everything they consume (clipped to the image), noted "global"', () => {
  const baseline = tf.memory().numTensors;
  const input = tf.input({ shape: [10, 11, 1], name: 'x' });
  // 3×3 stride 2 'valid': 4×5 units; rows 0..8 and columns 0..10 reach them, row 9 never does.
  const c = tf.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, name: 'c', ...ones }).apply(input) as T;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(c) as T;
  const dense = tf.layers.dense({ units: 3, name: 'dense', ...ones }).apply(gap) as T;
  const same = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', name: 'same', ...ones }).apply(input) as T;
  const flat = tf.layers.flatten({ name: 'flat' }).apply(same) as T;
  const fc = tf.layers.dense({ units: 2, name: 'fc', ...ones }).apply(flat) as T;
  const pointwise = tf.layers.dense({ units: 2, name: 'pointwise', ...ones }).apply(c) as T; // Dense on 4-D: per position
  const model = wrap(tf.model({ inputs: input, outputs: [dense, fc, pointwise] }));
  const r = receptiveField(model);
  const by = new Map(r.layers.map((l) => [l.name, l]));
  for (const name of ['gap', 'dense']) {
    assert.deepEqual([by.get(name)!.size, by.get(name)!.stride, by.get(name)!.padding], [[9, 11], [9, 11], [0, 0]], name);
    assert.equal(by.get(name)!.note, 'global');
  }
  // 'same' padding reaches beyond the image; clipped, the whole input.
  for (const name of ['flat', 'fc']) {
    assert.deepEqual([by.get(name)!.size, by.get(name)!.padding], [[10, 11], [0, 0]], name);
    assert.equal(by.get(name)!.note, 'global');
  }
  assert.deepEqual(fields(r).pointwise, fields(r).c);
  assert.equal(by.get('pointwise')!.note, undefined);
  assertBoxesMatch(model, r, ['gap', 'dense', 'fc', 'pointwise'], 'exact');
  model.dispose();
  assertNoLeak(baseline, 'global');
});

test('layers whose geometry is not modelled make the rest global, with a note saying why', () => {
  const input = tf.input({ shape: [6, 6, 1], name: 'x' });
  const c = tf.layers.conv2d({ filters: 1, kernelSize: 3, name: 'c' }).apply(input) as T;
  const up = tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(c) as T;
  const c2 = tf.layers.conv2d({ filters: 1, kernelSize: 3, name: 'c2' }).apply(up) as T;
  const model = wrap(tf.model({ inputs: input, outputs: c2 }));
  const r = receptiveField(model);
  model.dispose();
  const up1 = r.layers.find((l) => l.name === 'up')!;
  assert.match(up1.note!, /^global: UpSampling2D is not modelled/);
  assert.deepEqual(up1.size, [6, 6]);
  const after = r.layers.find((l) => l.name === 'c2')!;
  assert.deepEqual([after.size, after.note], [[6, 6], 'global']);
});

test('a nested model is one window: the field of its output composes with the outer layers', async () => {
  const baseline = tf.memory().numTensors;
  const backbone = tf.sequential({
    name: 'backbone',
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 1, kernelSize: 3, padding: 'same', ...ones }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
    ],
  });
  const input = tf.input({ shape: [8, 8, 1], name: 'x' });
  const b = backbone.apply(input) as T; // 4×4
  const after = tf.layers.conv2d({ filters: 1, kernelSize: 3, name: 'after', ...ones }).apply(b) as T; // 2×2
  const model = wrap(tf.model({ inputs: input, outputs: after }));
  const r = receptiveField(model);
  // Inside: conv 3×3 'same' (3, 1, 1), pool 2/2 (4, 2, 1); then a 3×3 'valid' conv on units 2 pixels apart.
  assert.deepEqual(fields(r), {
    x: { size: [1, 1], stride: [1, 1], padding: [0, 0] },
    backbone: { size: [4, 4], stride: [2, 2], padding: [1, 1] },
    after: { size: [8, 8], stride: [2, 2], padding: [1, 1] },
  });
  assert.match(r.layers[1].note!, /nested model: the field of its output/);
  assertBoxesMatch(model, r, ['backbone', 'after'], 'exact');
  model.dispose();
  assertNoLeak(baseline, 'nested');

  // The same architecture saved by Keras 3 (test/fixtures/models/keras3_nested.keras, 8×8×3 input).
  const keras = await loadModel(path.join(root, 'test/fixtures/models/keras3_nested.keras'));
  try {
    const k = fields(receptiveField(keras));
    assert.deepEqual(k.backbone, { size: [4, 4], stride: [2, 2], padding: [1, 1] });
    // GAP over the 4×4 units: pixels −1…8, clipped to the 8×8 image.
    assert.deepEqual(k.gap, { size: [8, 8], stride: [8, 8], padding: [0, 0] });
  } finally {
    keras.dispose();
  }
});

/** An InspectableModel over hand-written layer nodes (what a loader would produce). */
function fakeModel(layers: LayerNode[], format: InspectableModel['format'] = 'tfjs-layers'): InspectableModel {
  return {
    path: '/models/broken/model.json',
    format,
    name: 'fake',
    input: { height: 8, width: 8, channels: 1 },
    layers,
    outputLayer: layers[layers.length - 1].name,
    run: () => {
      throw new Error('not runnable');
    },
    layerWeights: () => [],
    dispose: () => undefined,
  };
}

test('a layer with an unusable config is an error naming the file and the layer', () => {
  const input: LayerNode = { name: 'in', className: 'InputLayer', inbound: [], outputShape: [null, 8, 8, 1], inputShapes: [], config: {}, weights: [] };
  const conv = (config: Record<string, unknown>): LayerNode => ({
    name: 'conv_a',
    className: 'Conv2D',
    inbound: ['in'],
    outputShape: [null, 6, 6, 1],
    inputShapes: [[null, 8, 8, 1]],
    config,
    weights: [],
  });
  assert.throws(() => receptiveField(fakeModel([input, conv({ strides: [1, 1] })])), {
    message: '/models/broken/model.json: layer "conv_a" (Conv2D): no kernel_size in its config',
  });
  assert.throws(() => receptiveField(fakeModel([input, conv({ kernel_size: [3, 3], padding: 'reflect' })])), {
    message: '/models/broken/model.json: layer "conv_a" (Conv2D): padding "reflect" is not one of valid, same',
  });
  assert.throws(() => receptiveField(fakeModel([input, conv({ kernel_size: [3, 3, 3] })])), /layer "conv_a" \(Conv2D\): kernel_size \[3, 3, 3\] is not one or two numbers/);
  // Keras JSON spelling (snake_case) is read too.
  const ok = receptiveField(fakeModel([input, conv({ kernel_size: 3, strides: 1, padding: 'valid', dilation_rate: 1 })]));
  assert.deepEqual(ok.layers[1].size, [3, 3]);
});

test('the bundled Fashion-MNIST CNN: fields by hand, and the classifier ignores the two last rows and columns', async () => {
  const file = path.join(root, 'samples/fashion-mnist-cnn/model.json');
  const baseline = tf.memory().numTensors;
  const model = await loadModel(file);
  try {
    const r = receptiveField(model);
    assert.equal(r.model, file);
    assert.deepEqual(r.input, [28, 28]);
    const names = r.layers.map((l) => l.name);
    assert.deepEqual(names.slice(1), ['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'fc1', 'predictions']);
    // conv 3×3 valid → pool 2/2 → conv 3×3 valid → pool 2/2: r = 3, 4, 8, 10; stride 1, 2, 2, 4; no padding.
    const f = fields(r);
    assert.deepEqual(f.conv1, { size: [3, 3], stride: [1, 1], padding: [0, 0] });
    assert.deepEqual(f.pool1, { size: [4, 4], stride: [2, 2], padding: [0, 0] });
    assert.deepEqual(f.conv2, { size: [8, 8], stride: [2, 2], padding: [0, 0] });
    assert.deepEqual(f.pool2, { size: [10, 10], stride: [4, 4], padding: [0, 0] });
    // pool2 has 5×5 units: the last starts at 4·4 = 16 and ends at 25, so pixels 26 and 27 are never seen.
    for (const name of ['flatten', 'fc1', 'predictions']) {
      assert.deepEqual(f[name], { size: [26, 26], stride: [26, 26], padding: [0, 0] }, name);
      assert.equal(r.layers.find((l) => l.name === name)!.note, 'global');
    }

    // A real test image through the trained model: rewriting rows/columns 26–27 changes nothing,
    // rewriting the box of one pool2 unit changes that unit.
    const config = await loadCnnLensConfig(file);
    const image = await loadSingleImage(path.join(root, 'samples/data/fashion-mnist-1000/0_T-shirt_top/00019.png'), model.input, config.preprocessing);
    const edited = image.slice();
    for (let i = 0; i < 28; i++) for (const j of [26, 27]) edited[i * 28 + j] = edited[j * 28 + i] = 0.5 + 0.01 * i;
    const probe = image.slice();
    const [t, l, b, rr] = unitReceptiveBox(r.layers.find((x) => x.name === 'pool2')!, [2, 3]);
    for (let y = t; y <= b; y++) for (let x = l; x <= rr; x++) probe[y * 28 + x] = 1 - probe[y * 28 + x];
    // One image per call, so each goes through exactly the same kernels.
    const outputs = [image, edited, probe].map((img) => {
      const x = tf.tensor4d(img, [1, 28, 28, 1]);
      const [pool2, pred] = model.run(x, ['pool2', 'predictions']);
      const out = { pool2: (pool2.arraySync() as number[][][][])[0], pred: (pred.arraySync() as number[][])[0] };
      tf.dispose([x, pool2, pred]);
      return out;
    });
    assert.deepEqual(outputs[1].pred, outputs[0].pred, 'predictions after rewriting rows/columns 26–27');
    assert.notDeepEqual(outputs[2].pool2[2][3], outputs[0].pool2[2][3], 'pool2 unit (2, 3) sees its box');
    // ...and units whose boxes (rows 4y..4y+9, columns 4x..4x+9) miss columns 12–21 are untouched.
    for (const [y, xx] of [[0, 0], [2, 0], [4, 0]]) assert.deepEqual(outputs[2].pool2[y][xx], outputs[0].pool2[y][xx], `pool2 unit (${y}, ${xx})`);
  } finally {
    model.dispose();
  }
  assertNoLeak(baseline, 'sample');
});

test('TF.js Graph model: fields from the node attributes (Conv2D, MaxPool, fused strided SAME conv)', async () => {
  const file = path.join(root, 'test/fixtures/models/tfjs_graph/model.json');
  const model = await loadModel(file);
  try {
    const r = receptiveField(model);
    const by = (op: string) => r.layers.filter((l) => l.className === op);
    assert.deepEqual(r.input, [12, 12]);
    assert.deepEqual(r.layers[0], { name: 'conv2d_input', className: 'Placeholder', size: [1, 1], stride: [1, 1], padding: [0, 0], aligned: true });
    const one = (op: string) => {
      const ls = by(op);
      assert.equal(ls.length, 1, op);
      return { size: ls[0].size, stride: ls[0].stride, padding: ls[0].padding };
    };
    // 12 → Conv2D 3×3 VALID → 10 → MaxPool 2/2 → 5 → _FusedConv2D 3×3 stride 2 SAME (5 → 3: total 2, top 1).
    assert.deepEqual(one('Conv2D'), { size: [3, 3], stride: [1, 1], padding: [0, 0] });
    assert.deepEqual(one('Relu'), { size: [3, 3], stride: [1, 1], padding: [0, 0] });
    assert.deepEqual(one('MaxPool'), { size: [4, 4], stride: [2, 2], padding: [0, 0] });
    assert.deepEqual(one('_FusedConv2D'), { size: [8, 8], stride: [4, 4], padding: [2, 2] });
    // Reshape → MatMul: global; the 3 units cover [−2, 13], clipped to the 12×12 image.
    for (const op of ['Reshape', 'MatMul', 'Softmax']) {
      assert.deepEqual(one(op), { size: [12, 12], stride: [12, 12], padding: [0, 0] }, op);
      assert.equal(by(op)[0].note, 'global');
    }
  } finally {
    model.dispose();
  }
});
