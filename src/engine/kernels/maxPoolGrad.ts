/**
 * `MaxPoolGrad` for the wasm backend (dL/dx of a 2-D max pooling), replacing the built-in one.
 *
 * Why: the kernel shipped in tfjs-backend-wasm 4.22 (MaxPoolGrad.cc) starts each window's running
 * maximum at `std::numeric_limits<float>::min()`, the smallest *positive* float, so a window whose
 * values are all ≤ 0 never finds its maximum and its gradient lands on a wrong pixel (or is lost);
 * it also sends tied maxima to the last one where TF.js's reference (cpu) sends them to the first.
 * Both happen all the time in practice: after BatchNorm values are negative, after ReLU whole
 * windows are 0. Gradients through max pooling (ERF, saliency, training) were wrong on wasm.
 *
 * Rule (as the cpu backend): for each output (n, i, j, c) the gradient dy goes to the first input
 * position, in row-major window order, holding the window's maximum; padded positions never win,
 * and a window with no number greater than −∞ (all −∞ or NaN) passes no gradient.
 *
 * Done as one pass in JavaScript over the backend's heap (no kernel composition): per output
 * position, the window is walked tap by tap with all channels in the inner loop, which reads x
 * contiguously (NHWC) and keeps a running maximum per channel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs';
import { WASM } from './wasmKernelUtils';

/** The parts of the wasm backend this kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

export const maxPoolGradWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const a = attrs as unknown as MaxPoolGradAttrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`MaxPoolGrad (wasm): float32 tensors expected, got input ${input.dtype}, dy ${dy.dtype}`);
  }
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  if (dy.shape[0] !== n || dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[3] !== c) {
    throw new Error(`MaxPoolGrad (wasm): dy shape [${dy.shape}] does not match the pooling output [${n},${ho},${wo},${c}]`);
  }
  const wasm = backend as unknown as WasmHeapBackend;
  const out = wasm.makeOutput([...input.shape], 'float32');
  // Views into the heap are taken after the allocation above: allocating can grow (and move) it.
  const x = wasm.typedArrayFromHeap(input);
  const g = wasm.typedArrayFromHeap(dy);
  const dx = wasm.typedArrayFromHeap(out);
  dx.fill(0);

  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    const xBatch = b * h * w * c;
    for (let i = 0; i < ho; i++) {
      const r0 = i * sh - top;
      for (let j = 0; j < wo; j++) {
        const c0 = j * sw - left;
        best.fill(-Infinity);
        where.fill(-1);
        for (let r = Math.max(0, r0); r < Math.min(h, r0 + kh); r++) {
          for (let col = Math.max(0, c0); col < Math.min(w, c0 + kw); col++) {
            const base = xBatch + (r * w + col) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch];
              // Strict '>': the first maximum in row-major order wins, as on the cpu backend.
              if (v > best[ch]) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((b * ho + i) * wo + j) * c;
        for (let ch = 0; ch < c; ch++) {
          if (where[ch] >= 0) dx[where[ch]] += g[dyBase + ch];
        }
      }
    }
  }
  return out;
};

export const maxPoolGradWasmConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: WASM,
  kernelFunc: maxPoolGradWasm,
};
