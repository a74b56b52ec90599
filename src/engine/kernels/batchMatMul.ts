/**
 * BatchMatMul for the wasm backend with transposed operands made explicit. The backend's kernel
 * handles `transposeA` / `transposeB` itself, but off its fast path: on this VM `aᵀ·g` for
 * a [64, 1600] and g [64, 128] (a Dense layer's kernel gradient) took 18 ms, and `g·wᵀ` (its input
 * gradient) 12 ms, against 0.9 ms and 1.4 ms for a Transpose followed by the plain product. Every
 * Dense layer's backward pass makes both, so training a Dense-heavy model spent most of its
 * backward pass here (bench/README.md, "Training").
 *
 * Same arithmetic: the transposed copy holds the same values, and the product is the backend's own.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { withScratch, WASM } from './wasmKernelUtils';

/** Permutation swapping the last two axes of a rank-`rank` tensor. */
function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

export function batchMatMulWasmConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    return withScratch(args.backend, (s) => {
      const at = transposeA ? s.transpose(a, swapLast(a.shape.length)) : a;
      const bt = transposeB ? s.transpose(b, swapLast(b.shape.length)) : b;
      return original({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as TensorInfo;
    });
  };
  return { kernelName: 'BatchMatMul', backendName: WASM, kernelFunc };
}
