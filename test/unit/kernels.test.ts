/**
 * Tests of the wasm training kernels (src/engine/kernels): gradients computed on 'wasm' with
 * our kernels must match the reference 'cpu' backend within 1e-4 relative error
 * (max |wasm − cpu| / max |cpu|), for many convolution configurations, and a tiny model trained
 * with model.fit must end with the same weights on both backends.
 *
 * Data moves between backends as plain arrays (dataSync), never as tensors.
 *
 * Dilation: TF.js's own gradient functions for conv2d / depthwiseConv2d refuse dilation > 1, so
 * `tf.grad` cannot reach the kernels with a dilation. The dilated cases therefore call the
 * kernels directly (engine.runKernel with a `dilations` attribute) and compare them with a cpu
 * reference that uses the equivalent undilated convolution whose filter has zeros inserted
 * between the taps (dW of the dilated conv = every d-th tap of that filter's gradient).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../../src/engine/kernels/registerWasmKernels';
import { uniformRandom } from '../../src/engine/random';
import { maxRelativeError } from './analysisFixtures';

const TOL = 1e-4;

// ---------------------------------------------------------------------------------------------
// helpers

interface Arr {
  data: Float32Array;
  shape: number[];
}

/** Deterministic pseudo-random normal-ish values (mulberry32 + Box-Muller). */
function randomArr(shape: number[], seed: number): Arr {
  const next = uniformRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(next(), 1e-12);
    data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  }
  return { data, shape };
}

function assertClose(actual: Arr, expected: Arr, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const e = maxRelativeError(actual.data, expected.data);
  assert.ok(e <= TOL, `${what}: relative error ${e.toExponential(2)} > ${TOL}`);
}

function toArr(t: tf.Tensor): Arr {
  return { data: Float32Array.from(t.dataSync()), shape: t.shape.slice() };
}

async function use(backend: 'cpu' | 'wasm'): Promise<void> {
  const ok = await tf.setBackend(backend);
  assert.ok(ok, `could not start backend ${backend}`);
  await tf.ready();
  assert.equal(tf.getBackend(), backend);
}

function wasmDataIds(): number {
  return (tf.findBackend('wasm') as unknown as { numDataIds(): number }).numDataIds();
}

/**
 * Runs `body` and checks that it leaves neither engine tensors nor (on wasm) backend buffers
 * behind, i.e. the kernels release every intermediate.
 */
function checkNoLeak<T>(body: () => T, what: string): T {
  const tensors = tf.memory().numTensors;
  const ids = tf.getBackend() === 'wasm' ? wasmDataIds() : 0;
  const out = body();
  assert.equal(tf.memory().numTensors, tensors, `${what}: tensors leaked`);
  if (tf.getBackend() === 'wasm') assert.equal(wasmDataIds(), ids, `${what}: wasm buffers leaked`);
  return out;
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  depthwise: boolean;
  n: number;
  h: number;
  w: number;
  cin: number;
  /** out channels (conv) or channel multiplier (depthwise) */
  cout: number;
  k: [number, number];
  strides: [number, number];
  pad: Pad;
}

function label(c: Case): string {
  return (
    `${c.depthwise ? 'depthwise' : 'conv2d'} x[${c.n},${c.h},${c.w},${c.cin}] k${c.k.join('x')} ` +
    `${c.depthwise ? 'mult' : 'cout'}${c.cout} s${c.strides.join(',')} pad ${JSON.stringify(c.pad)}`
  );
}

function forward(c: Case, x: tf.Tensor4D, w: tf.Tensor4D, dilations: [number, number] = [1, 1]): tf.Tensor4D {
  return c.depthwise
    ? tf.depthwiseConv2d(x, w, c.strides, c.pad as 'same', 'NHWC', dilations)
    : tf.conv2d(x, w, c.strides, c.pad as 'same', 'NHWC', dilations);
}

function filterShape(c: Case): [number, number, number, number] {
  return [c.k[0], c.k[1], c.cin, c.cout];
}

/**
 * Gradients (dx, dW) of  L = Σ conv(x, W) · G  on the current backend through tf.grads, i.e.
 * through the registered backprop kernels with dy = G.
 */
function gradsOnCurrentBackend(c: Case, xa: Arr, wa: Arr, ga: Arr): [Arr, Arr] {
  return checkNoLeak(() => {
    const x = tf.tensor4d(xa.data, xa.shape as [number, number, number, number]);
    const w = tf.tensor4d(wa.data, wa.shape as [number, number, number, number]);
    const g = tf.tensor4d(ga.data, ga.shape as [number, number, number, number]);
    const f = (xi: tf.Tensor, wi: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(forward(c, xi as tf.Tensor4D, wi as tf.Tensor4D), g));
    const [dx, dw] = tf.grads(f)([x, w]);
    const out: [Arr, Arr] = [toArr(dx), toArr(dw)];
    tf.dispose([x, w, g, dx, dw]);
    return out;
  }, label(c));
}

async function compareCase(c: Case, seed: number): Promise<void> {
  const xa = randomArr([c.n, c.h, c.w, c.cin], seed);
  const wa = randomArr(filterShape(c), seed + 1);
  await use('cpu');
  const outShape = tf.tidy(() => forward(c, tf.zeros([c.n, c.h, c.w, c.cin]) as tf.Tensor4D, tf.tensor4d(wa.data, filterShape(c))).shape);
  const ga = randomArr(outShape, seed + 2);
  const [dxCpu, dwCpu] = gradsOnCurrentBackend(c, xa, wa, ga);
  await use('wasm');
  const [dxWasm, dwWasm] = gradsOnCurrentBackend(c, xa, wa, ga);
  assertClose(dwWasm, dwCpu, `${label(c)} dW`);
  assertClose(dxWasm, dxCpu, `${label(c)} dx`);
}

// ---------------------------------------------------------------------------------------------
// configurations

function cases(): Case[] {
  const out: Case[] = [];
  const shapes: Array<Pick<Case, 'n' | 'h' | 'w' | 'cin'>> = [
    { n: 1, h: 9, w: 7, cin: 1 }, // batch 1, one channel, odd sizes
    { n: 7, h: 10, w: 11, cin: 3 }, // batch 7, RGB-like, mixed parity
  ];
  for (const depthwise of [false, true]) {
    for (const shape of shapes) {
      for (const k of [1, 3, 5]) {
        for (const s of [1, 2]) {
          for (const pad of ['same', 'valid'] as const) {
            out.push({ depthwise, ...shape, cout: depthwise ? (k === 3 ? 2 : 1) : 4, k: [k, k], strides: [s, s], pad });
          }
        }
      }
    }
  }
  // Non-square kernels and strides, explicit and numeric padding, larger channel counts.
  out.push({ depthwise: false, n: 2, h: 13, w: 12, cin: 5, cout: 6, k: [3, 2], strides: [2, 1], pad: 'same' });
  out.push({ depthwise: false, n: 2, h: 13, w: 12, cin: 5, cout: 6, k: [2, 3], strides: [1, 3], pad: 'valid' });
  out.push({ depthwise: false, n: 3, h: 8, w: 9, cin: 3, cout: 5, k: [3, 3], strides: [2, 2], pad: 1 });
  out.push({
    depthwise: false, n: 3, h: 8, w: 9, cin: 3, cout: 5, k: [3, 3], strides: [2, 2],
    pad: [[0, 0], [2, 0], [1, 3], [0, 0]],
  });
  out.push({ depthwise: false, n: 4, h: 6, w: 6, cin: 16, cout: 32, k: [3, 3], strides: [1, 1], pad: 'same' });
  // Fewer filter taps × in-channels than out-channels: dW through image patches (conv2DBackpropFilter.ts).
  out.push({ depthwise: false, n: 3, h: 12, w: 11, cin: 1, cout: 16, k: [3, 3], strides: [1, 1], pad: 'same' });
  out.push({ depthwise: false, n: 2, h: 13, w: 12, cin: 2, cout: 24, k: [3, 3], strides: [2, 2], pad: 'valid' });
  out.push({ depthwise: false, n: 2, h: 9, w: 10, cin: 1, cout: 8, k: [3, 2], strides: [2, 1], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
  out.push({ depthwise: false, n: 4, h: 28, w: 28, cin: 1, cout: 32, k: [3, 3], strides: [1, 1], pad: 'valid' });
  out.push({ depthwise: true, n: 2, h: 13, w: 12, cin: 5, cout: 3, k: [3, 2], strides: [2, 1], pad: 'same' });
  out.push({ depthwise: true, n: 3, h: 8, w: 9, cin: 4, cout: 1, k: [3, 3], strides: [2, 2], pad: 1 });
  out.push({ depthwise: true, n: 5, h: 12, w: 12, cin: 16, cout: 1, k: [3, 3], strides: [2, 2], pad: 'same' });
  return out;
}

// ---------------------------------------------------------------------------------------------
// tests

test('registration is idempotent and provides the missing kernels on wasm', async () => {
  await use('wasm');
  registerWasmTrainingKernels();
  const before = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'Conv2DBackpropInput'].map(
    (k) => tf.getKernel(k, 'wasm'),
  );
  registerWasmTrainingKernels();
  const after = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'Conv2DBackpropInput'].map(
    (k) => tf.getKernel(k, 'wasm'),
  );
  for (let i = 0; i < before.length; i++) {
    assert.ok(before[i], 'kernel registered');
    assert.equal(after[i], before[i], 'second registration changes nothing');
  }
});

for (const [i, c] of cases().entries()) {
  test(`gradients match cpu: ${label(c)}`, async () => {
    registerWasmTrainingKernels();
    await compareCase(c, 1000 + 10 * i);
  });
}

/** Inserts d−1 zeros between the taps of a [kh, kw, a, b] filter (cpu, plain arrays). */
function dilateFilter(wa: Arr, d: number): Arr {
  const [kh, kw, a, b] = wa.shape;
  const kh2 = (kh - 1) * d + 1;
  const kw2 = (kw - 1) * d + 1;
  const data = new Float32Array(kh2 * kw2 * a * b);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = (i * kw + j) * a * b;
      const dst = (i * d * kw2 + j * d) * a * b;
      data.set(wa.data.subarray(src, src + a * b), dst);
    }
  }
  return { data, shape: [kh2, kw2, a, b] };
}

/** Takes every d-th tap of a [kh2, kw2, a, b] filter gradient. */
function subsampleFilter(ga: Arr, d: number, kh: number, kw: number): Arr {
  const [, kw2, a, b] = ga.shape;
  const data = new Float32Array(kh * kw * a * b);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = (i * d * kw2 + j * d) * a * b;
      data.set(ga.data.subarray(src, src + a * b), (i * kw + j) * a * b);
    }
  }
  return { data, shape: [kh, kw, a, b] };
}

const dilatedCases: Case[] = [
  { depthwise: false, n: 3, h: 11, w: 9, cin: 3, cout: 4, k: [3, 3], strides: [1, 1], pad: 'same' },
  { depthwise: false, n: 1, h: 12, w: 13, cin: 1, cout: 2, k: [3, 3], strides: [1, 1], pad: 'valid' },
  { depthwise: false, n: 2, h: 15, w: 14, cin: 3, cout: 4, k: [3, 2], strides: [2, 2], pad: 'same' },
  { depthwise: false, n: 7, h: 13, w: 13, cin: 3, cout: 2, k: [5, 5], strides: [2, 2], pad: 'valid' },
  { depthwise: false, n: 2, h: 14, w: 13, cin: 1, cout: 12, k: [3, 3], strides: [2, 1], pad: 'same' },
  { depthwise: true, n: 3, h: 11, w: 9, cin: 3, cout: 2, k: [3, 3], strides: [1, 1], pad: 'same' },
  { depthwise: true, n: 1, h: 12, w: 13, cin: 1, cout: 1, k: [3, 3], strides: [1, 1], pad: 'valid' },
  { depthwise: true, n: 7, h: 15, w: 14, cin: 3, cout: 1, k: [5, 3], strides: [2, 2], pad: 'same' },
];

for (const [i, c] of dilatedCases.entries()) {
  test(`dilation 2 (direct kernel call) matches cpu: ${label(c)}`, async () => {
    registerWasmTrainingKernels();
    const d = 2;
    const xa = randomArr([c.n, c.h, c.w, c.cin], 5000 + 10 * i);
    const wa = randomArr(filterShape(c), 5001 + 10 * i);
    const wBig = dilateFilter(wa, d);

    // cpu reference: undilated conv with the zero-inserted filter, through tf.grads.
    await use('cpu');
    // (TF.js ops refuse stride > 1 together with dilation > 1; the kernels handle it, so the
    // output shape comes from the shared shape helper rather than a forward op.)
    const outShape = tf.backend_util.computeConv2DInfo(
      xa.shape as [number, number, number, number], filterShape(c), c.strides, [d, d], c.pad as 'same', undefined, c.depthwise,
    ).outShape;
    const ga = randomArr(outShape, 5002 + 10 * i);
    const [dxRef, dwBigRef] = gradsOnCurrentBackend({ ...c, k: [wBig.shape[0], wBig.shape[1]] }, xa, wBig, ga);
    const dwRef = subsampleFilter(dwBigRef, d, c.k[0], c.k[1]);

    // wasm: the backprop kernels called directly with dilations = 2.
    await use('wasm');
    const [dx, dw] = checkNoLeak(() => {
      const x = tf.tensor4d(xa.data, xa.shape as [number, number, number, number]);
      const w = tf.tensor4d(wa.data, filterShape(c));
      const g = tf.tensor4d(ga.data, ga.shape as [number, number, number, number]);
      if (c.strides[0] === 1 && c.strides[1] === 1) {
        const y = forward(c, x, w, [d, d]);
        assert.deepEqual(y.shape, g.shape, 'forward shape on wasm');
        y.dispose();
      }
      const common = { strides: c.strides, pad: c.pad, dilations: [d, d], dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
      const dwT = tf.engine().runKernel(
        c.depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter',
        { x, dy: g },
        { ...common, dataFormat: 'NHWC', filterShape: filterShape(c) } as tf.NamedAttrMap,
      ) as tf.Tensor;
      const dxT = tf.engine().runKernel(
        c.depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput',
        { dy: g, filter: w },
        { ...common, dataFormat: 'NHWC', inputShape: xa.shape } as tf.NamedAttrMap,
      ) as tf.Tensor;
      const r: [Arr, Arr] = [toArr(dxT), toArr(dwT)];
      tf.dispose([x, w, g, dwT, dxT]);
      return r;
    }, label(c));
    assertClose(dw, dwRef, `${label(c)} dilation ${d} dW`);
    assertClose(dx, dxRef, `${label(c)} dilation ${d} dx`);
  });
}

test('NCHW is rejected with a clear error', async () => {
  registerWasmTrainingKernels();
  await use('wasm');
  const x = tf.zeros([1, 2, 5, 5]);
  const dy = tf.zeros([1, 3, 3, 3]);
  assert.throws(
    () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3],
      } as unknown as tf.NamedAttrMap),
    /NHWC/,
  );
  tf.dispose([x, dy]);
});

// ---------------------------------------------------------------------------------------------
// end to end: model.fit

function tinyModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({
    inputShape: [9, 9, 2], filters: 4, kernelSize: 3, activation: 'relu', padding: 'same',
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), name: 'c1',
  }));
  model.add(tf.layers.depthwiseConv2d({
    kernelSize: 3, depthMultiplier: 2, strides: 2, activation: 'relu', padding: 'valid',
    depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }), name: 'dw',
  }));
  model.add(tf.layers.conv2d({
    filters: 3, kernelSize: 2, strides: 1, activation: 'tanh', padding: 'same',
    kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), name: 'c2',
  }));
  model.add(tf.layers.flatten({ name: 'flat' }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }), name: 'out' }));
  return model;
}

async function fitTwoSteps(backend: 'cpu' | 'wasm', init: Arr[], xa: Arr, labels: number[]): Promise<Arr[]> {
  await use(backend);
  const model = tinyModel();
  model.setWeights(init.map((a) => tf.tensor(a.data, a.shape)));
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const x = tf.tensor4d(xa.data, xa.shape as [number, number, number, number]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  const h = await model.fit(x, y, { batchSize: 4, epochs: 1, shuffle: false, verbose: 0 });
  assert.equal((h.history.loss as number[]).length, 1);
  const weights = model.getWeights().map(toArr);
  tf.dispose([x, y]);
  model.dispose();
  return weights;
}

test('model.fit of a tiny conv/depthwise model: same weights on wasm and cpu after 2 steps', async () => {
  registerWasmTrainingKernels();
  await use('cpu');
  const initModel = tinyModel();
  const init = initModel.getWeights().map((w) => toArr(w));
  initModel.dispose();
  // Different non-trivial starting biases so the bias gradients matter too.
  init.forEach((a, i) => {
    if (a.shape.length === 1) a.data.set(randomArr(a.shape, 77 + i).data.map((v) => 0.1 * v));
  });
  const xa = randomArr([8, 9, 9, 2], 4242);
  const labels = [0, 1, 2, 0, 1, 2, 2, 1];
  const cpu = await fitTwoSteps('cpu', init, xa, labels);
  const wasm = await fitTwoSteps('wasm', init, xa, labels);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    assertClose(wasm[i], cpu[i], `weight ${i} [${cpu[i].shape}]`);
    // The weights did move (the comparison is not trivially between initial values).
    assert.ok(maxRelativeError(cpu[i].data, init[i].data) > 1e-3, `weight ${i} changed during training`);
  }
});
