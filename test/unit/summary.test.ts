/**
 * Summary and FLOPs (src/engine/analyses/summary.ts, flops.ts): parameter counts and FLOPs of
 * small layers against hand computation, VGG-16's convolutional part against the published
 * 30.713 GFLOPs (google-research/receptive_field RF_RESULTS.md, vgg_16 at 224, end-point pool5),
 * and graph-model nodes counted from their attributes.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { summarize } from '../../src/engine/analyses/summary';
import { layerFlops } from '../../src/engine/analyses/flops';
import { activationPoints } from '../../src/engine/analyses/activationPoints';
import type { InspectableModel, LayerNode } from '../../src/engine/model/inspectableModel';
import { assertNoLeak, useWasm, wrap } from './analysisFixtures';

before(useWasm);

test('params and FLOPs of small layers match hand computation', () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }));
  m.add(tf.layers.batchNormalization({ name: 'bn' }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw' }));
  m.add(tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'sep' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 5, activation: 'softmax', name: 'fc' }));
  const model = wrap(m);
  const baseline = tf.memory().numTensors;
  const s = summarize(model);
  assertNoLeak(baseline, 'summarize');
  const by = new Map(s.layers.map((l) => [l.name, l]));

  // conv: 3·3·3·16 + 16 params; 2·(8·8·16)·(3·3·3) multiply-adds + 8·8·16 bias adds.
  assert.equal(by.get('conv')!.params, 448);
  assert.equal(by.get('conv')!.flops, 2 * 8 * 8 * 16 * 27 + 8 * 8 * 16);
  assert.equal(by.get('conv')!.activation, 'relu');
  assert.deepEqual(by.get('conv')!.outputShape, [null, 8, 8, 16]);
  assert.deepEqual(by.get('conv')!.inputShapes, [[null, 8, 8, 3]]);
  // BN: gamma, beta trainable; moving mean / variance not. 2 FLOPs per element.
  assert.equal(by.get('bn')!.trainableParams, 32);
  assert.equal(by.get('bn')!.nonTrainableParams, 32);
  assert.equal(by.get('bn')!.flops, 2 * 1024);
  // depthwise 3x3, multiplier 1: 144 + 16 params; 2·1024·9 + 1024.
  assert.equal(by.get('dw')!.params, 160);
  assert.equal(by.get('dw')!.flops, 19456);
  // separable: depthwise 2·64·16·9 + pointwise 2·64·16·8 + bias 64·8; params 144 + 128 + 8.
  assert.equal(by.get('sep')!.params, 280);
  assert.equal(by.get('sep')!.flops, 18432 + 16384 + 512);
  // max pool 2x2: 4 ops per output, 4·4·8 outputs.
  assert.equal(by.get('pool')!.flops, 512);
  assert.equal(by.get('flat')!.flops, 0);
  // dense 128 -> 5: 2·128·5 + 5; softmax costs nothing by convention.
  assert.equal(by.get('fc')!.params, 645);
  assert.equal(by.get('fc')!.flops, 1285);
  assert.equal(by.get('fc')!.activation, 'softmax');

  assert.equal(s.totals.params, 448 + 64 + 160 + 280 + 645);
  assert.equal(s.totals.nonTrainableParams, 32);
  assert.equal(s.totals.trainableParams, s.totals.params - 32);
  assert.equal(s.totals.flops, 56320 + 2048 + 19456 + 35328 + 512 + 1285);
  assert.deepEqual(s.totals.uncountedLayers, []);
  assert.equal(s.outputLayer, 'fc');
  assert.ok(s.flopsConvention.includes('multiply-add = 2'));
  // plain data: survives structured clone unchanged
  assert.deepEqual(structuredClone(s), s);
  model.dispose();
});

test('residual Add and global pooling are counted; unknown layers are listed as uncounted', () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const a = tf.layers.conv2d({ filters: 2, kernelSize: 1, useBias: false, name: 'c1' }).apply(input) as tf.SymbolicTensor;
  const add = tf.layers.add({ name: 'add' }).apply([a, input]) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(add) as tf.SymbolicTensor;
  const model = wrap(tf.model({ inputs: input, outputs: gap }));
  const s = summarize(model);
  const by = new Map(s.layers.map((l) => [l.name, l]));
  assert.equal(by.get('c1')!.flops, 2 * 16 * 2 * 2); // no bias
  assert.equal(by.get('add')!.flops, 32); // (2 inputs − 1) · 32 elements
  assert.equal(by.get('gap')!.flops, 32); // one op per input element
  const fake: LayerNode = { name: 'x', className: 'SomethingNew', inbound: [], outputShape: [null, 3], inputShapes: [], config: {}, weights: [] };
  assert.equal(layerFlops(fake), undefined);
  model.dispose();
});

/** TF-Slim vgg_16 up to pool5: 13 3x3 'SAME' convolutions with ReLU, 5 2x2/2 max pools. */
function vgg16Conv(): tf.Sequential {
  const m = tf.sequential({ name: 'vgg_16' });
  const blocks = [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
  ];
  blocks.forEach((filters, b) => {
    filters.forEach((f, i) => {
      m.add(
        tf.layers.conv2d({
          ...(b === 0 && i === 0 ? { inputShape: [224, 224, 3] } : {}),
          filters: f,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          name: `conv${b + 1}_${i + 1}`,
        }),
      );
    });
    m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${b + 1}` }));
  });
  return m;
}

test('VGG-16 up to pool5 at 224x224 is 30.7 GFLOPs (receptive_field RF_RESULTS.md: 30.713)', () => {
  const model = wrap(vgg16Conv(), 'vgg16'); // random weights, never run
  const baseline = tf.memory().numTensors;
  const s = summarize(model);
  assertNoLeak(baseline, 'summarize');
  const g = s.totals.flops / 1e9;
  assert.equal(Number(g.toPrecision(3)), 30.7);
  // The convention (conv 2·MACs + bias adds, pool = window · outputs, ReLU free) reproduces the
  // published number to all its digits, and its intermediate end-points too.
  assert.equal(Number(g.toFixed(3)), 30.713);
  const upTo = (name: string): number => summarize(model, { upTo: name }).totals.flops / 1e9;
  assert.equal(Number(upTo('conv1_1').toFixed(3)), 0.177);
  assert.equal(Number(upTo('pool1').toFixed(3)), 3.882);
  assert.equal(Number(upTo('conv3_2').toFixed(3)), 14.987);
  assert.equal(Number(upTo('pool4').toFixed(3)), 27.938);
  assert.equal(s.totals.params, 14714688);
  assert.deepEqual(s.totals.uncountedLayers, []);
  model.dispose();
});

// ---------------------------------------------------------------------------------------------
// Graph-model nodes: className is the TensorFlow op, config carries the node attributes.

function node(name: string, className: string, inbound: string[], outputShape: (number | null)[], inputShapes: (number | null)[][], config: Record<string, unknown> = {}, weights: LayerNode['weights'] = []): LayerNode {
  return { name, className, inbound, outputShape, inputShapes, config, weights };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function fakeGraphModel(layers: LayerNode[]): InspectableModel {
  return {
    path: 'graph/model.json',
    format: 'tfjs-graph',
    name: 'graph',
    input: { height: 8, width: 8, channels: 3 },
    layers,
    outputLayer: layers[layers.length - 1].name,
    run: () => {
      throw new Error('not runnable');
    },
    layerWeights: () => [],
    dispose: () => undefined,
  };
}

test('graph-model ops are counted from their shapes and attributes', () => {
  const layers = [
    node('input', 'Placeholder', [], [null, 8, 8, 3], []),
    node('w1', 'Const', [], [3, 3, 3, 16], [], {}, [{ name: 'w1', shape: [3, 3, 3, 16], trainable: false }]),
    // proto-JSON attributes, as in model.json
    node('conv1', 'Conv2D', ['input', 'w1'], [null, 8, 8, 16], [[null, 8, 8, 3], [3, 3, 3, 16]], {
      strides: { list: { i: ['1', '1', '1', '1'] } },
      padding: { s: b64('SAME') },
    }),
    node('b1', 'Const', [], [16], []),
    node('bias1', 'BiasAdd', ['conv1', 'b1'], [null, 8, 8, 16], [[null, 8, 8, 16], [16]]),
    node('relu1', 'Relu', ['bias1'], [null, 8, 8, 16], [[null, 8, 8, 16]]),
    node('pool1', 'MaxPool', ['relu1'], [null, 4, 4, 16], [[null, 8, 8, 16]], { ksize: { list: { i: ['1', '2', '2', '1'] } } }),
    node('w2', 'Const', [], [3, 3, 16, 1], []),
    // tfjs-converter style attributes
    node('dw', 'FusedDepthwiseConv2dNative', ['pool1', 'w2'], [null, 4, 4, 16], [[null, 4, 4, 16], [3, 3, 16, 1]], {
      fusedOps: { value: ['biasadd', 'relu6'], type: 'string[]' },
    }),
    node('w3', 'Const', [], [1, 1, 16, 8], []),
    node('pw', '_FusedConv2D', ['dw', 'w3'], [null, 4, 4, 8], [[null, 4, 4, 16], [1, 1, 16, 8]], {
      fused_ops: { list: { s: [b64('BiasAdd'), b64('LeakyRelu')] } },
    }),
    node('flat', 'Reshape', ['pw'], [null, 128], [[null, 4, 4, 8]]),
    node('w4', 'Const', [], [128, 10], []),
    node('mm', 'MatMul', ['flat', 'w4'], [null, 10], [[null, 128], [128, 10]]),
    node('sm', 'Softmax', ['mm'], [null, 10], [[null, 10]]),
  ];
  const model = fakeGraphModel(layers);
  const s = summarize(model);
  const f = new Map(s.layers.map((l) => [l.name, l.flops]));
  assert.equal(f.get('conv1'), 2 * 8 * 8 * 16 * 27);
  assert.equal(f.get('bias1'), 1024);
  assert.equal(f.get('relu1'), 0);
  assert.equal(f.get('pool1'), 4 * 256);
  assert.equal(f.get('dw'), 2 * 256 * 9 + 256);
  assert.equal(f.get('pw'), 2 * 128 * 16 + 128);
  assert.equal(f.get('mm'), 2 * 128 * 10);
  assert.equal(f.get('flat'), 0);
  assert.equal(s.totals.flops, 55296 + 1024 + 1024 + 4864 + 4224 + 2560);
  assert.deepEqual(s.totals.uncountedLayers, []);

  // Activation points through graph ops: Conv2D → BiasAdd → Relu; fused activations.
  const points = new Map(activationPoints(model).map((p) => [p.layer, p]));
  assert.deepEqual([...points.keys()], ['conv1', 'dw', 'pw', 'mm']);
  assert.equal(points.get('conv1')!.point, 'relu1');
  assert.deepEqual(points.get('conv1')!.chain, ['conv1', 'bias1', 'relu1']);
  assert.equal(points.get('conv1')!.deadApplicable, true);
  assert.equal(points.get('dw')!.activation, 'relu6');
  assert.equal(points.get('dw')!.deadApplicable, true);
  assert.equal(points.get('pw')!.activation, 'leaky_relu');
  assert.equal(points.get('pw')!.deadApplicable, false);
  assert.equal(points.get('mm')!.point, 'sm');
  assert.equal(points.get('mm')!.activation, 'softmax');
  assert.equal(points.get('mm')!.units, 10);
});
