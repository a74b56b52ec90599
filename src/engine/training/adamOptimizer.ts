/**
 * Adam with the update `tf.train.adam` makes, in fewer TF.js calls per step.
 *
 * Why not `tf.train.adam` itself: its `applyGradients` turns every constant (β1, 1 − β1, β2,
 * 1 − β2, ε, −lr) into a new scalar tensor on every call and tracks the bias corrections as
 * tensors (two more variables, their updates, two divisions per variable). On a head trained on
 * cached features, where the arithmetic is tiny and TF.js's per-call cost is everything, that
 * was 150 µs of a 0.35 ms step on wasm (bench/README.md, "Training"). Here the constants are
 * uploaded once and the bias corrections are two numbers computed in JS per step.
 *
 * The update, per variable w with gradient g at step t (tfjs's AdamOptimizer, same defaults):
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   w ← w − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 * Results equal tfjs's up to float32 rounding (adamOptimizer.test.ts runs both side by side).
 * The optimizer's moments are not saved with a model, so `getWeights`/`setWeights` are not
 * provided beyond the base class's iteration count.
 */
import * as tf from '@tensorflow/tfjs';

/** What `applyGradients` takes: a name → gradient map, or a list of named gradients. */
type Gradients = Parameters<tf.Optimizer['applyGradients']>[0];
type NamedTensor = { name: string; tensor: tf.Tensor };

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

export class AdamOptimizer extends tf.Optimizer {
  static get className(): string {
    // Not registered for serialisation: the engine never saves optimizer state.
    return 'CnnLensAdam';
  }

  private readonly moments = new Map<string, Moments>();
  private readonly constants: { beta1: tf.Scalar; oneMinusBeta1: tf.Scalar; beta2: tf.Scalar; oneMinusBeta2: tf.Scalar; epsilon: tf.Scalar };

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    // tfjs's default: the backend's epsilon (1e-7 for float32).
    private readonly epsilon = tf.backend().epsilon(),
  ) {
    super();
    this.constants = {
      beta1: tf.scalar(beta1),
      oneMinusBeta1: tf.scalar(1 - beta1),
      beta2: tf.scalar(beta2),
      oneMinusBeta2: tf.scalar(1 - beta2),
      epsilon: tf.scalar(epsilon),
    };
  }

  applyGradients(variableGradients: Gradients): void {
    const named: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const t = this.iterations + 1;
    const c = this.constants;
    tf.tidy(() => {
      // lr / (1 − β1ᵗ) folded into one scalar with the sign; 1 / (1 − β2ᵗ) into another.
      const step = tf.scalar(-this.learningRate / (1 - Math.pow(this.beta1, t)));
      const secondCorrection = tf.scalar(1 / (1 - Math.pow(this.beta2, t)));
      for (const { name, tensor: g } of named) {
        if (g == null) continue;
        const value = tf.engine().registeredVariables[name];
        if (!value) throw new Error(`AdamOptimizer: no variable named ${name}`);
        let state = this.moments.get(name);
        if (!state) {
          state = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(value), false), v: tf.variable(tf.zerosLike(value), false) }));
          this.moments.set(name, state);
        }
        const m = tf.add(tf.mul(state.m, c.beta1), tf.mul(g, c.oneMinusBeta1));
        const v = tf.add(tf.mul(state.v, c.beta2), tf.mul(tf.square(g), c.oneMinusBeta2));
        state.m.assign(m);
        state.v.assign(v);
        value.assign(tf.add(value, tf.mul(tf.div(m, tf.add(tf.sqrt(tf.mul(v, secondCorrection)), c.epsilon)), step)));
      }
    });
    this.incrementIterations();
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
    tf.dispose(Object.values(this.constants));
    super.dispose();
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
