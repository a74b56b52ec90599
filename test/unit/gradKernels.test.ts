/**
 * Gradients with respect to the *input* (what the effective receptive field needs) on the wasm
 * backend, against the reference cpu backend, within 1e-4 relative error
 * (max |wasm − cpu| / max |cpu|):
 *
 *   - MaxPoolGrad, which CNN Lens replaces on wasm (src/engine/kernels/maxPoolGrad.ts), over
 *     paddings, strides, window shapes, negative inputs, ties and all-zero windows: the inputs
 *     where the built-in kernel was wrong;
 *   - AvgPoolGrad (the built-in), over the same configurations;
 *   - one model with every layer type the ERF must pass through (Conv2D, DepthwiseConv2D,
 *     SeparableConv2D, Max/AvgPool, BatchNormalization, ReLU/ReLU6/sigmoid/tanh/softmax, Dense,
 *     Flatten, ZeroPadding2D, Add, Concatenate), for the gradient of the model output and of
 *     every intermediate layer taken through `InspectableModel.run`;
 *   - a TF.js Graph model (tfjs-converter output), through `GraphModel.execute`.
 *
 * Data moves between backends as plain arrays, never as tensors.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../../src/engine/kernels/registerWasmKernels';
import { fromLayersModel } from '../../src/engine/model/layersModelAdapter';
import { loadModel } from '../../src/engine/io/models';
import type { InspectableModel } from '../../src/engine/model/inspectableModel';
import { gaussian, maxRelativeError, seeded } from './analysisFixtures';

const TOL = 1e-4;
const root = path.resolve(__dirname, '../../..');

async function use(backend: 'cpu' | 'wasm'): Promise<void> {
  assert.ok(await tf.setBackend(backend), `could not start backend ${backend}`);
  await tf.ready();
  if (backend === 'wasm') registerWasmTrainingKernels();
  assert.equal(tf.getBackend(), backend);
}

function assertClose(wasm: Float32Array, cpu: Float32Array, what: string): void {
  let mass = 0;
  for (const v of cpu) mass += Math.abs(v);
  assert.ok(mass > 0, `${what}: the cpu gradient is all zeros, the comparison would prove nothing`);
  const e = maxRelativeError(wasm, cpu);
  assert.ok(e <= TOL, `${what}: relative error ${e.toExponential(2)} > ${TOL}`);
}

function wasmDataIds(): number {
  return (tf.findBackend('wasm') as unknown as { numDataIds(): number }).numDataIds();
}

function normal(n: number, seed: number): Float32Array {
  const g = gaussian(seed);
  return Float32Array.from({ length: n }, () => g());
}

// ---------------------------------------------------------------------------------------------
// Pooling gradients

type Pool = 'max' | 'avg';
interface PoolCase {
  shape: [number, number, number, number];
  size: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
  /**
   * 'normal': N(0,1); 'ties': integers in {-1, 0, 1}; 'zeros': all 0; 'negative': −|N(0,1)|;
   * 'special': N(0,1) with NaN, −∞ and +∞ sprinkled in (NaN never wins; all-−∞ windows pass nothing).
   */
  values: 'normal' | 'ties' | 'zeros' | 'negative' | 'special';
}

const POOL_CASES: PoolCase[] = [
  { shape: [2, 9, 9, 3], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'normal' },
  { shape: [2, 9, 9, 3], size: [2, 2], strides: [2, 2], pad: 'same', values: 'normal' },
  { shape: [1, 9, 9, 1], size: [2, 2], strides: [1, 1], pad: 'valid', values: 'normal' },
  { shape: [2, 10, 7, 4], size: [3, 3], strides: [2, 2], pad: 'same', values: 'normal' },
  { shape: [1, 8, 8, 5], size: [3, 3], strides: [1, 1], pad: 'same', values: 'normal' },
  { shape: [1, 11, 9, 2], size: [2, 3], strides: [1, 2], pad: 'valid', values: 'normal' },
  { shape: [3, 6, 6, 8], size: [3, 3], strides: [3, 3], pad: 'valid', values: 'negative' },
  { shape: [2, 8, 8, 3], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'ties' },
  { shape: [2, 7, 7, 3], size: [3, 3], strides: [2, 2], pad: 'same', values: 'ties' },
  { shape: [1, 6, 6, 2], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'zeros' },
  // Channels a multiple of 4 with 2×2/2 windows inside the input: the SIMD path of maxPoolGrad.ts.
  { shape: [2, 8, 8, 4], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'ties' },
  { shape: [3, 9, 7, 8], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'normal' },
  { shape: [2, 6, 10, 12], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'zeros' },
  { shape: [2, 7, 9, 4], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'negative' },
  { shape: [2, 8, 6, 8], size: [2, 2], strides: [2, 2], pad: 'valid', values: 'special' },
  // 'same' on odd sizes pads the last window: not the SIMD path, even with 4k channels.
  { shape: [2, 9, 9, 4], size: [2, 2], strides: [2, 2], pad: 'same', values: 'normal' },
];

function poolInput(c: PoolCase, seed: number): Float32Array {
  const n = c.shape.reduce((a, b) => a * b, 1);
  if (c.values === 'zeros') return new Float32Array(n);
  if (c.values === 'ties') {
    const u = seeded(seed);
    return Float32Array.from({ length: n }, () => Math.floor(u() * 3) - 1);
  }
  const v = normal(n, seed);
  if (c.values === 'negative') for (let i = 0; i < n; i++) v[i] = -Math.abs(v[i]);
  if (c.values === 'special') {
    const u = seeded(seed + 1);
    for (let i = 0; i < n; i++) {
      const r = u();
      if (r < 0.15) v[i] = NaN;
      else if (r < 0.45) v[i] = -Infinity;
      else if (r < 0.5) v[i] = Infinity;
    }
  }
  return v;
}

function poolGrad(kind: Pool, c: PoolCase, x: Float32Array, dyValues: Float32Array): { dx: Float32Array; dyShape: number[] } {
  const before = tf.memory().numTensors;
  const ids = tf.getBackend() === 'wasm' ? wasmDataIds() : 0;
  const out = tf.tidy(() => {
    const xt = tf.tensor4d(x, c.shape);
    const pool = (t: tf.Tensor) => (kind === 'max' ? tf.maxPool(t as tf.Tensor4D, c.size, c.strides, c.pad) : tf.avgPool(t as tf.Tensor4D, c.size, c.strides, c.pad));
    const yShape = pool(xt).shape;
    const dy = tf.tensor(dyValues.subarray(0, yShape.reduce((a, b) => a * b, 1)), yShape);
    const dx = tf.grad((t: tf.Tensor) => pool(t).mul(dy).sum())(xt);
    return { dx: dx.dataSync() as Float32Array, dyShape: yShape };
  });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  if (tf.getBackend() === 'wasm') assert.equal(wasmDataIds(), ids, 'wasm buffers leaked');
  return out;
}

for (const kind of ['max', 'avg'] as const) {
  for (const [i, c] of POOL_CASES.entries()) {
    test(`${kind}Pool gradient on wasm matches cpu: x [${c.shape}] ${c.size.join('×')}/${c.strides.join(',')} ${c.pad}, ${c.values} values`, async () => {
      const x = poolInput(c, 100 + i);
      const dy = normal(c.shape.reduce((a, b) => a * b, 1), 200 + i);
      await use('cpu');
      const cpu = poolGrad(kind, c, x, dy);
      await use('wasm');
      const wasm = poolGrad(kind, c, x, dy);
      assert.deepEqual(wasm.dyShape, cpu.dyShape);
      assertClose(wasm.dx, cpu.dx, `${kind}Pool ${JSON.stringify(c)}`);
    });
  }
}

test('maxPool gradient: windows of negative values and zero ties go to the first maximum (hand-computed)', async () => {
  await use('wasm');
  // 3×3 input, 2×2 windows, stride 1: window (0,0) holds -1,-2,-4,-5 → max -1 at (0,0), and so on;
  // dy = 1, 2, 3, 4 for the four windows.
  const xs = [-1, -2, -3, -4, -5, -6, -7, -8, -9];
  const dx = tf.tidy(() => {
    const x = tf.tensor4d(xs, [1, 3, 3, 1]);
    const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    return tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 1, 'valid').mul(dy).sum())(x).dataSync();
  });
  assert.deepEqual(Array.from(dx), [1, 2, 0, 3, 4, 0, 0, 0, 0]);
  // All zeros (a ReLU output that never fired): each window's gradient goes to its top-left pixel.
  const dz = tf.tidy(() => {
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    return tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid').mul(dy).sum())(x).dataSync();
  });
  assert.deepEqual(Array.from(dz), [1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]);
});

// ---------------------------------------------------------------------------------------------
// A model with every layer type

/** Builds the model; weights are then set from `weightValues` so both backends use the same ones. */
function everyLayerModel(): tf.LayersModel {
  const input = tf.input({ shape: [14, 14, 3], name: 'image' });
  let x = tf.layers.zeroPadding2d({ padding: [[1, 2], [2, 1]], name: 'pad' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', name: 'conv' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn' }).apply(x) as tf.SymbolicTensor;
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', strides: 1, name: 'depthwise' }).apply(x) as tf.SymbolicTensor;
  const relu6 = tf.layers.reLU({ maxValue: 6, name: 'relu6' }).apply(dw) as tf.SymbolicTensor;
  const sep = tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'separable' }).apply(x) as tf.SymbolicTensor;
  let y = tf.layers.add({ name: 'add' }).apply([relu6, sep]) as tf.SymbolicTensor;
  y = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'maxpool' }).apply(y) as tf.SymbolicTensor;
  const side = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'sigmoid', name: 'side' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.concatenate({ name: 'concat' }).apply([y, side]) as tf.SymbolicTensor;
  y = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: 'avgpool' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 5, kernelSize: 2, strides: 1, padding: 'same', activation: 'relu', name: 'conv_s' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 12, activation: 'relu', name: 'fc' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 5, activation: 'softmax', name: 'softmax' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y, name: 'every_layer' });
}

/** Deterministic weights: N(0, 0.5) kernels and biases; BN scale/variance in [0.5, 2], mean N(0, 0.5). */
function weightValues(model: tf.LayersModel): { data: Float32Array; shape: number[] }[] {
  return model.weights.map((w, i) => {
    const shape = w.shape.map(Number);
    const n = shape.reduce((a, b) => a * b, 1);
    const name = w.originalName;
    if (/gamma|moving_variance/.test(name)) {
      const u = seeded(300 + i);
      return { data: Float32Array.from({ length: n }, () => 0.5 + 1.5 * u()), shape };
    }
    const g = gaussian(300 + i);
    return { data: Float32Array.from({ length: n }, () => 0.5 * g()), shape };
  });
}

function inspectable(model: tf.LayersModel): InspectableModel {
  const values = weightValues(model);
  const ts = values.map((v) => tf.tensor(v.data, v.shape));
  model.setWeights(ts);
  tf.dispose(ts);
  return fromLayersModel(model, 'every_layer.json', 'tfjs-layers');
}

const PROBED = ['pad', 'conv', 'bn', 'depthwise', 'relu6', 'separable', 'add', 'maxpool', 'side', 'concat', 'avgpool', 'conv_s', 'flatten', 'fc', 'softmax'];

/** d(Σ layer output · r)/d input for each probed layer, r a fixed random tensor. */
function layerGradients(model: InspectableModel, x: Float32Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const before = tf.memory().numTensors;
  for (const [i, name] of PROBED.entries()) {
    const g = tf.tidy(() => {
      const xt = tf.tensor4d(x, [2, 14, 14, 3]);
      const grad = tf.grad((t: tf.Tensor) => {
        const [y] = model.run(t as tf.Tensor4D, [name]);
        const r = tf.tensor(normal(y.size, 500 + i), y.shape);
        return y.mul(r).sum();
      })(xt);
      return grad.dataSync() as Float32Array;
    });
    out.set(name, g);
  }
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  return out;
}

test('every layer type: input gradients of each layer on wasm match cpu', async () => {
  const x = normal(2 * 14 * 14 * 3, 42);
  const grads: Record<string, Map<string, Float32Array>> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    await use(backend);
    const model = inspectable(everyLayerModel());
    try {
      assert.deepEqual(
        model.layers.map((l) => l.className),
        ['InputLayer', 'ZeroPadding2D', 'Conv2D', 'BatchNormalization', 'DepthwiseConv2D', 'ReLU', 'SeparableConv2D', 'Add', 'MaxPooling2D', 'Conv2D', 'Concatenate', 'AveragePooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense'],
      );
      grads[backend] = layerGradients(model, x);
    } finally {
      model.dispose();
    }
  }
  for (const name of PROBED) assertClose(grads.wasm.get(name)!, grads.cpu.get(name)!, `layer ${name}`);
});

test('a TF.js Graph model is differentiable through GraphModel.execute, and wasm matches cpu', async () => {
  const file = path.join(root, 'test/fixtures/models/tfjs_graph/model.json');
  const grads: Record<string, Float32Array[]> = {};
  let names: string[] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await use(backend);
    const model = await loadModel(file);
    try {
      assert.equal(model.format, 'tfjs-graph');
      names = model.layers.slice(1).map((l) => l.name);
      const { height, width, channels } = model.input;
      const x = normal(2 * height * width * channels, 7);
      const before = tf.memory().numTensors;
      grads[backend] = names.map((name) =>
        tf.tidy(() => tf.grad((t: tf.Tensor) => model.run(t as tf.Tensor4D, [name])[0].sum())(tf.tensor4d(x, [2, height, width, channels])).dataSync() as Float32Array),
      );
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    } finally {
      model.dispose();
    }
  }
  // The softmax's outputs sum to 1 whatever the input, so its gradient is ~0: compared elsewhere.
  names.forEach((name, i) => {
    if (!name.endsWith('Softmax')) assertClose(grads.wasm[i], grads.cpu[i], `graph node ${name}`);
  });
});
