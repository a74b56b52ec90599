/**
 * Registers on the wasm backend the gradient kernels it lacks, so models can be trained there
 * (see README.md in this folder for the identities used):
 *
 *   - Conv2DBackpropFilter                 (dL/dW of conv2d)            conv2DBackpropFilter.ts
 *   - DepthwiseConv2dNativeBackpropFilter  (dL/dW of depthwiseConv2d)   depthwiseConv2dNativeBackpropFilter.ts
 *   - DepthwiseConv2dNativeBackpropInput   (dL/dx of depthwiseConv2d)   depthwiseConv2dNativeBackpropInput.ts
 *
 * replaces the backend's MaxPoolGrad, which is wrong for windows of values ≤ 0 and for ties
 * (maxPoolGrad.ts explains), and replaces the backend's reference-loop Conv2DBackpropInput
 * (dL/dx of conv2d, ~6× slower than a forward conv) with an XNNPACK-backed one
 * (conv2DBackpropInput.ts); NCHW still goes to the original. Pass `{ fastConv2DBackpropInput: false }` to keep the original kernel.
 * Wraps, for training speed, BatchMatMul (batchMatMul.ts), Sum (sum.ts), Identity (identity.ts)
 * and Cast (cast.ts); the wrapped built-ins still handle every case the wrappers do not.
 *
 * Idempotent: calling it again (or from a second copy of this module) does nothing. It can be
 * called before or after the wasm backend is initialised.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { conv2DBackpropFilterWasmConfig } from './conv2DBackpropFilter';
import { conv2DBackpropInputWasmConfig } from './conv2DBackpropInput';
import { depthwiseConv2dNativeBackpropFilterWasmConfig } from './depthwiseConv2dNativeBackpropFilter';
import { depthwiseConv2dNativeBackpropInputWasmConfig } from './depthwiseConv2dNativeBackpropInput';
import { maxPoolGradWasmConfig } from './maxPoolGrad';
import { batchMatMulWasmConfig } from './batchMatMul';
import { sumWasmConfig } from './sum';
import { identityWasmConfig } from './identity';
import { castWasmConfig } from './cast';
import { WASM } from './wasmKernelUtils';

/** Marks kernel functions registered by CNN Lens, so re-registration can be detected. */
const MARK = Symbol.for('cnn-lens.wasmTrainingKernel');

type Marked = KernelFunc & { [MARK]?: true };

function isOurs(kernelName: string): boolean {
  const k = tf.getKernel(kernelName, WASM);
  return !!k && (k.kernelFunc as Marked)[MARK] === true;
}

function register(config: KernelConfig): void {
  (config.kernelFunc as Marked)[MARK] = true;
  // registerKernel warns when overwriting; we only replace deliberately, so unregister first.
  if (tf.getKernel(config.kernelName, WASM)) tf.unregisterKernel(config.kernelName, WASM);
  tf.registerKernel(config);
}

export interface WasmTrainingKernelOptions {
  /** Replace the slow built-in Conv2DBackpropInput with the XNNPACK-based one. Default true. */
  fastConv2DBackpropInput?: boolean;
}

/** Names of the kernels this module provides (for diagnostics and tests). */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  'Sum',
  'Identity',
  'Cast',
] as const;

export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): void {
  for (const config of [
    conv2DBackpropFilterWasmConfig,
    depthwiseConv2dNativeBackpropFilterWasmConfig,
    depthwiseConv2dNativeBackpropInputWasmConfig,
    maxPoolGradWasmConfig,
  ]) {
    if (!isOurs(config.kernelName)) register(config);
  }
  if (options.fastConv2DBackpropInput !== false && !isOurs('Conv2DBackpropInput')) {
    const original = tf.getKernel('Conv2DBackpropInput', WASM);
    const config = conv2DBackpropInputWasmConfig(original?.kernelFunc);
    // Keep the original's setup/dispose hooks: its NCHW fallback needs its wasm bindings, which
    // the backend creates through setupFunc when it initialises after this registration.
    if (original?.setupFunc) config.setupFunc = original.setupFunc;
    if (original?.disposeFunc) config.disposeFunc = original.disposeFunc;
    register(config);
  }
  // BatchMatMul with transposed operands (every Dense layer's backward pass) off the backend's
  // slow path: batchMatMul.ts. The original does the product, so keep its wasm bindings too.
  // Sum over leading axes (every conv bias gradient) with a cheaper transpose: sum.ts.
  // Identity and same-dtype Cast without a copy (every tensor saved for a gradient is cloned):
  // identity.ts, cast.ts.
  for (const [name, wrap] of [
    ['BatchMatMul', batchMatMulWasmConfig],
    ['Sum', sumWasmConfig],
    ['Identity', identityWasmConfig],
    ['Cast', castWasmConfig],
  ] as const) {
    const original = tf.getKernel(name, WASM);
    if (!original || isOurs(name)) continue;
    const config = wrap(original.kernelFunc);
    if (original.setupFunc) config.setupFunc = original.setupFunc;
    if (original.disposeFunc) config.disposeFunc = original.disposeFunc;
    register(config);
  }
}
