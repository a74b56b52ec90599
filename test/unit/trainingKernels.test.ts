/**
 * The wasm BatchMatMul and Sum wrappers (src/engine/kernels/batchMatMul.ts, sum.ts), added for
 * training speed: every transpose combination and leading-axes reduction matches the cpu
 * backend, equals bit for bit what the plain formulation gives on wasm, and leaves no buffer
 * behind. Gradients of a Dense layer (which use both) match cpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend';
import { maxRelativeError } from './analysisFixtures';

function values(shape: number[], seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

async function on<T>(backend: 'cpu' | 'wasm', f: () => T): Promise<T> {
  // initBackend starts wasm once (and registers the kernels); setBackend switches back to it.
  if (backend === 'wasm') await initBackend('wasm');
  await tf.setBackend(backend);
  assert.equal(tf.getBackend(), backend);
  return f();
}

const wasmIds = (): number => (tf.findBackend('wasm') as unknown as { numDataIds(): number }).numDataIds();

test('BatchMatMul with transposed operands: equal to cpu, bit-identical to an explicit transpose, no leaks', async () => {
  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [64, 40], b: [64, 12], ta: true, tb: false },
    { a: [64, 12], b: [40, 12], ta: false, tb: true },
    { a: [12, 64], b: [40, 12], ta: true, tb: true },
    { a: [3, 9, 5], b: [3, 9, 7], ta: true, tb: false },
    { a: [3, 5, 9], b: [1, 7, 9], ta: false, tb: true },
    { a: [10, 6], b: [6, 4], ta: false, tb: false },
  ];
  try {
    for (const [i, c] of cases.entries()) {
      const av = values(c.a, 2 * i + 1);
      const bv = values(c.b, 2 * i + 2);
      const cpu = await on('cpu', () => tf.tidy(() => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.ta, c.tb).dataSync() as Float32Array));
      const [wasm, plain, leaked] = await on('wasm', () => {
        const ids = wasmIds();
        const r = tf.tidy(() => {
          const a = tf.tensor(av, c.a);
          const b = tf.tensor(bv, c.b);
          const swap = (t: tf.Tensor) => tf.transpose(t, [...t.shape.keys()].map((k, _, all) => (k === all.length - 2 ? all.length - 1 : k === all.length - 1 ? all.length - 2 : k)));
          return [tf.matMul(a, b, c.ta, c.tb).dataSync() as Float32Array, tf.matMul(c.ta ? swap(a) : a, c.tb ? swap(b) : b).dataSync() as Float32Array];
        });
        return [r[0], r[1], wasmIds() - ids] as const;
      });
      assert.ok(maxRelativeError(wasm, cpu) < 1e-5, `case ${i}: ${maxRelativeError(wasm, cpu)}`);
      assert.deepEqual(wasm, plain, `case ${i}: not the plain product`);
      assert.equal(leaked, 0, `case ${i}: wasm buffers leaked`);
    }
  } finally {
    await tf.setBackend('wasm');
  }
});

test('Sum over leading axes: equal to cpu and bit-identical to the transposed innermost sum; other axes unchanged', async () => {
  // [.., 5]: kept sizes not a multiple of 4 (the backend's Sum on a 2-D view); [.., 8]: the SIMD rows sum.
  for (const shape of [[8, 7, 6, 5], [9, 5, 3, 8]]) await sumCases(shape);
});

async function sumCases(shape: number[]): Promise<void> {
  const xv = values(shape, 9);
  const cases: { axis: number[]; keepDims: boolean }[] = [
    { axis: [0, 1, 2], keepDims: false },
    { axis: [0, 1, 2], keepDims: true },
    { axis: [0, 1], keepDims: true },
    { axis: [1, 0], keepDims: false },
    { axis: [1, 2], keepDims: false },
    { axis: [0], keepDims: false },
    { axis: [0, 1, 2, 3], keepDims: false },
  ];
  try {
    for (const c of cases) {
      const cpu = await on('cpu', () => tf.tidy(() => tf.sum(tf.tensor(xv, shape), c.axis, c.keepDims)).arraySync());
      const [wasm, wasmShape, reference] = await on('wasm', () => {
        const ids = wasmIds();
        const x = tf.tensor(xv, shape);
        const s = tf.sum(x, c.axis, c.keepDims);
        // What the backend's own Sum computes: reduced axes moved innermost, then summed there.
        const rest = [0, 1, 2, 3].filter((a) => !c.axis.includes(a));
        const perm = [...rest, ...[...c.axis].sort()];
        const ref = tf.tidy(() => tf.sum(tf.transpose(x, perm), Array.from({ length: c.axis.length }, (_, k) => rest.length + k)));
        const out = [s.dataSync() as Float32Array, s.shape, ref.dataSync() as Float32Array] as const;
        tf.dispose([x, s, ref]);
        assert.equal(wasmIds(), ids, `axes ${c.axis}: wasm buffers leaked`);
        return out;
      });
      const cpuFlat = Float32Array.from([cpu].flat(4) as number[]);
      assert.deepEqual(wasmShape, tf.tidy(() => tf.sum(tf.zeros(shape), c.axis, c.keepDims).shape), `axes ${c.axis}`);
      assert.ok(maxRelativeError(wasm, cpuFlat) < 1e-5, `axes ${c.axis}`);
      assert.deepEqual(wasm, reference, `[${shape}] axes ${c.axis}: not bit-identical`);
    }
  } finally {
    await tf.setBackend('wasm');
  }
}

test('gradients of a Dense layer on wasm match cpu', async () => {
  const xv = values([16, 30], 3);
  const wv = values([30, 7], 4);
  const grads = async (backend: 'cpu' | 'wasm') =>
    on(backend, () =>
      tf.tidy(() => {
        const x = tf.tensor2d(xv, [16, 30]);
        const w = tf.tensor2d(wv, [30, 7]);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.matMul(a, b)))))([x, w]);
        return [gx.dataSync() as Float32Array, gw.dataSync() as Float32Array];
      }),
    );
  const cpu = await grads('cpu');
  const wasm = await grads('wasm');
  assert.ok(maxRelativeError(wasm[0], cpu[0]) < 1e-5);
  assert.ok(maxRelativeError(wasm[1], cpu[1]) < 1e-5);
});

test('Identity and same-dtype Cast share the data on wasm: values kept after the source is disposed, no buffer leaked', async () => {
  await on('wasm', () => {
    const ids = wasmIds();
    const tensors = tf.memory().numTensors;
    const xv = values([4, 5, 6], 11);
    const x = tf.tensor(xv, [4, 5, 6]);
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    const saved = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
    assert.equal(wasmIds() - ids, 1, 'one buffer for x and its clones');
    x.dispose();
    assert.deepEqual(copy.dataSync(), xv);
    assert.deepEqual(same.dataSync(), xv);
    assert.deepEqual(saved.dataSync(), xv);
    // A real conversion still converts.
    const asInt = tf.cast(copy, 'int32');
    assert.equal(asInt.dtype, 'int32');
    assert.deepEqual(Array.from(asInt.dataSync()), Array.from(xv, (v) => Math.trunc(v) | 0));
    tf.dispose([copy, same, saved, asInt]);
    assert.equal(wasmIds(), ids, 'wasm buffers leaked');
    assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
  });
});

test('gradients through ReLU and saved activations on wasm match cpu (zero-copy Identity/Cast in the tape)', async () => {
  const xv = values([3, 6, 6, 4], 21);
  const wv = values([3, 3, 4, 8], 22);
  const grads = async (backend: 'cpu' | 'wasm') =>
    on(backend, () => {
      const tensors = tf.memory().numTensors;
      const out = tf.tidy(() => {
        const x = tf.tensor4d(xv, [3, 6, 6, 4]);
        const w = tf.tensor4d(wv, [3, 3, 4, 8]);
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.maxPool(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')), 2, 2, 'valid')));
        const [gx, gw] = tf.grads(f)([x, w]);
        return [gx.dataSync() as Float32Array, gw.dataSync() as Float32Array];
      });
      assert.equal(tf.memory().numTensors, tensors, `${backend}: tensors leaked`);
      return out;
    });
  const cpu = await grads('cpu');
  const wasm = await grads('wasm');
  assert.ok(maxRelativeError(wasm[0], cpu[0]) < 1e-4, `dx ${maxRelativeError(wasm[0], cpu[0])}`);
  assert.ok(maxRelativeError(wasm[1], cpu[1]) < 1e-4, `dW ${maxRelativeError(wasm[1], cpu[1])}`);
});
