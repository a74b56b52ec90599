/**
 * The engine's Adam (adamOptimizer.ts) against `tf.train.adam`: the same trajectory, step by
 * step, through `minimize` and through `applyGradients` with a list or a map of gradients, and
 * every tensor it made freed by `dispose`.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamOptimizer } from '../../src/engine/training/adamOptimizer';
import { assertNoLeak, gaussian, maxRelativeError, useWasm } from './analysisFixtures';

before(useWasm);

/** A small least-squares problem with two variables of different shapes (a kernel and a bias). */
function problem(seed: number) {
  const g = gaussian(seed);
  const x = tf.tensor2d(Float32Array.from({ length: 64 * 6 }, g), [64, 6]);
  const target = tf.tensor2d(Float32Array.from({ length: 64 * 3 }, g), [64, 3]);
  const init = { kernel: Float32Array.from({ length: 18 }, g), bias: Float32Array.from({ length: 3 }, g) };
  return { x, target, init };
}

for (const mode of ['minimize', 'applyGradients (list)', 'applyGradients (map)'] as const) {
  test(`${mode}: 200 steps follow tf.train.adam within float32 rounding`, () => {
    const { x, target, init } = problem(3);
    const baseline = tf.memory().numTensors;
    const run = (optimizer: tf.Optimizer, tag: string) => {
      // Inside tidy: a variable keeps its own reference to the initial tensor's data.
      const kernel = tf.tidy(() => tf.variable(tf.tensor2d(init.kernel, [6, 3]), true, `kernel_${tag}_${mode}`));
      const bias = tf.tidy(() => tf.variable(tf.tensor1d(init.bias), true, `bias_${tag}_${mode}`));
      const loss = () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, kernel), bias), target))) as tf.Scalar;
      const trajectory: number[] = [];
      for (let step = 0; step < 200; step++) {
        if (mode === 'minimize') {
          const cost = optimizer.minimize(loss, true, [kernel, bias])!;
          trajectory.push(cost.dataSync()[0]);
          cost.dispose();
        } else {
          const { value, grads } = tf.variableGrads(loss, [kernel, bias]);
          trajectory.push(value.dataSync()[0]);
          if (mode === 'applyGradients (list)') optimizer.applyGradients([kernel, bias].map((v) => ({ name: v.name, tensor: grads[v.name] })));
          else optimizer.applyGradients(grads);
          tf.dispose([value, ...Object.values(grads)]);
        }
      }
      const weights = [kernel.dataSync().slice() as Float32Array, bias.dataSync().slice() as Float32Array];
      tf.dispose([kernel, bias]);
      optimizer.dispose();
      return { trajectory, weights };
    };
    const reference = run(tf.train.adam(0.05), 'tfjs');
    const ours = run(new AdamOptimizer(0.05), 'ours');
    assertNoLeak(baseline, 'two optimizers, their variables and moments');
    tf.dispose([x, target]);
    // It optimises (the loss falls a lot), and both followed the same path.
    assert.ok(reference.trajectory[199] < 0.5 * reference.trajectory[0], `loss ${reference.trajectory[0]} → ${reference.trajectory[199]}`);
    ours.trajectory.forEach((l, i) => assert.ok(Math.abs(l - reference.trajectory[i]) <= 1e-5 * reference.trajectory[i], `step ${i}: loss ${l} vs ${reference.trajectory[i]}`));
    ours.weights.forEach((w, i) => {
      const d = maxRelativeError(w, reference.weights[i]);
      assert.ok(d <= 1e-5, `weights ${i} differ by ${d} relative`);
    });
  });
}

test('a gradient for a variable that does not exist is an error naming it', () => {
  const optimizer = new AdamOptimizer(0.01);
  const g = tf.zeros([2]);
  try {
    assert.throws(() => optimizer.applyGradients([{ name: 'no_such_variable', tensor: g }]), /no variable named no_such_variable/);
  } finally {
    g.dispose();
    optimizer.dispose();
  }
});
