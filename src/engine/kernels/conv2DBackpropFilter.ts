/**
 * `Conv2DBackpropFilter` for the wasm backend (dL/dW of a 2-D convolution), built from the wasm
 * backend's own XNNPACK `Conv2D` plus two `Transpose`s.
 *
 * Identity. The forward convolution (NHWC, filter `[kh, kw, ci, co]`, stride s, dilation d, input
 * zero-padded by `top`/`left`, written xp) is
 *
 *     y[n, i, j, co] = Σ_{a, b, ci} xp[n, i·s_h + a·d_h, j·s_w + b·d_w, ci] · W[a, b, ci, co]
 *
 * so its filter gradient is
 *
 *     dW[a, b, ci, co] = Σ_{n, i, j} xp[n, a·d_h + i·s_h, b·d_w + j·s_w, ci] · dy[n, i, j, co].
 *
 * That is itself a convolution in which
 *   - the *input* is x with batch and channels swapped:  X'[ci, r, c, n] = xp[n, r, c, ci]
 *   - the *filter* is dy with the batch moved to the in-channel slot:  F[i, j, n, co] = dy[n, i, j, co]
 *   - the output spatial position is the filter tap (a, b): out[ci, a, b, co] = dW[a, b, ci, co]
 *   - the roles of stride and dilation swap: stride = d (original dilation), dilation = s
 *     (original stride: consecutive dy positions are s input pixels apart).
 * The contraction runs over (i, j, n) = filter height × width × in-channels, exactly what a conv
 * sums over, so the whole gradient is one GEMM-backed XNNPACK convolution (~2× the forward cost).
 *
 * Padding: the original padding is applied as explicit padding of the new convolution (top/left
 * as computed by TF.js for 'same'/'valid'/explicit), and the bottom/right side is set so that the
 * padded height is exactly (kh-1)·d_h + (ho-1)·s_h + 1, giving an output of exactly kh × kw.
 * Input rows never read by the forward conv (e.g. 'valid' with a stride that does not divide
 * evenly) make that trailing pad negative; they are cropped with a Slice first.
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { assertChannelsLast, convGeometry, cropForConv, planDim, view, withScratch, WASM, type Scratch } from './wasmKernelUtils';

export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
  assertChannelsLast('Conv2DBackpropFilter', a.dataFormat);
  const { info, kh, kw, sh, sw, dh, dw, ho, wo } = convGeometry(x.shape, a.filterShape, a, false);
  if (dy.shape[0] !== x.shape[0] || dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[3] !== a.filterShape[3]) {
    throw new Error(
      `Conv2DBackpropFilter (wasm): dy shape [${dy.shape}] does not match the convolution output ` +
        `[${x.shape[0]},${ho},${wo},${a.filterShape[3]}]`,
    );
  }
  const [, h, w, ci] = x.shape;
  const co = a.filterShape[3];

  const taps = kh * kw * ci;
  if (taps < co) return withScratch(backend, (s) => viaPatches(s, x, dy, info, co));

  return withScratch(backend, (s) => {
    // Padded extent the new conv must see so that its output is exactly kh × kw.
    const ph = planDim(h, info.padInfo.top, (kh - 1) * dh + (ho - 1) * sh + 1);
    const pw = planDim(w, info.padInfo.left, (kw - 1) * dw + (wo - 1) * sw + 1);
    // X'[ci, r, c, n]
    const xt = s.transpose(x, [3, 1, 2, 0]);
    const cropped = cropForConv(s, xt, ph, pw);
    if (!cropped) return s.zeros([kh, kw, ci, co]);
    // F[i, j, n, co]
    const f = s.transpose(dy, [1, 2, 0, 3]);
    // out[ci, a, b, co]: stride = original dilation, dilation = original stride.
    const out = s.conv2d(cropped.x, f, [dh, dw], [sh, sw], cropped.pads);
    if (out.shape[1] !== kh || out.shape[2] !== kw) {
      throw new Error(`Conv2DBackpropFilter (wasm): internal shape error [${out.shape}] for filter ${kh}x${kw}`);
    }
    // → dW[a, b, ci, co]
    const dW = s.transpose(out, [1, 2, 0, 3]);
    return view(dW, [kh, kw, ci, co]);
  });
};

/** The parts of the wasm backend the patch extraction uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/**
 * dW as one matrix product over image patches, for layers with few inputs per output channel
 * (kh·kw·ci < co, typically the first conv of a network: 3×3×1 → 32):
 *
 *     dW[(a, b, ci), co] = Σ_{n,i,j} P[(n,i,j), (a,b,ci)] · dy[(n,i,j), co],  i.e.  dWᵀ = dyᵀ · P
 *
 * with P the patches of x (im2col, zero outside the padded input). Why: the convolution above
 * makes dy its filter, and XNNPACK repacks a filter on every call (new dy every step); for
 * dy [64, 26, 26, 32] that packing (1.38 M values) cost ~5 ms of the 7 ms this kernel took, the
 * arithmetic under 1 ms. Here the packed operand is P, kh·kw·ci/co of that size (9/32 for the
 * sample's conv1), and the product is the backend's BatchMatMul. P is written in one JavaScript
 * pass over the heap (x is small in this case: it has ci < co channels).
 */
function viaPatches(s: Scratch, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo, co: number): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, outHeight: ho, outWidth: wo } = info;
  const [n, h, w, ci] = x.shape;
  const taps = kh * kw * ci;
  const rows = n * ho * wo;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const wasm = s.backend as unknown as WasmHeapBackend;
  const patches = s.own(wasm.makeOutput([1, rows, taps], 'float32'));
  const xs = wasm.typedArrayFromHeap(x);
  const p = wasm.typedArrayFromHeap(patches);
  writePatches(xs, p, { n, h, w, ci, kh, kw, ho, wo, sh, sw, dh, dw, top, left });
  // dyᵀ [co, (n, i, j)], as a 2-D transpose: the backend's 4-D one ([3, 0, 1, 2]) took 2 ms for
  // [64, 26, 26, 32], the same data viewed as [43264, 32] 0.7 ms.
  const dyT = s.transpose(view(dy, [rows, co]), [1, 0]);
  const dWT = s.run('BatchMatMul', { a: view(dyT, [1, co, rows]), b: patches }, { transposeA: false, transposeB: false });
  // dW [(a, b, ci), co] from dWᵀ [co, (a, b, ci)]: small, in JavaScript (the backend's Transpose
  // has a fixed cost of ~0.5 ms per call).
  const dW = s.own(wasm.makeOutput([kh, kw, ci, co], 'float32'));
  const src = wasm.typedArrayFromHeap(dWT);
  const dst = wasm.typedArrayFromHeap(dW);
  for (let o = 0; o < co; o++) {
    for (let t = 0; t < taps; t++) dst[t * co + o] = src[o * taps + t];
  }
  return dW;
}

interface PatchGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  kh: number;
  kw: number;
  ho: number;
  wo: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
}

/**
 * P[(n, i, j), (a, b, c)] = x[n, i·sh + a·dh − top, j·sw + b·dw − left, c], 0 outside x.
 * Walks each (image row, tap, channel) along j, so the reads of x are sequential and the range
 * of j inside the input is computed once instead of tested per element.
 */
function writePatches(xs: Float32Array, p: Float32Array, g: PatchGeometry): void {
  const { n, h, w, ci, kh, kw, ho, wo, sh, sw, dh, dw, top, left } = g;
  const taps = kh * kw * ci;
  for (let b = 0; b < n; b++) {
    const xBatch = b * h * w * ci;
    for (let i = 0; i < ho; i++) {
      const rowOut = (b * ho + i) * wo * taps;
      for (let a = 0; a < kh; a++) {
        const r = i * sh + a * dh - top;
        const rowInside = r >= 0 && r < h;
        for (let t = 0; t < kw; t++) {
          // Output columns j whose input column j·sw + t·dw − left lies in [0, w).
          const j0 = Math.min(wo, Math.max(0, Math.ceil((left - t * dw) / sw)));
          const j1 = rowInside ? Math.max(j0, Math.min(wo, Math.ceil((w + left - t * dw) / sw))) : j0;
          for (let c = 0; c < ci; c++) {
            let q = rowOut + (a * kw + t) * ci + c;
            let j = 0;
            for (; j < j0; j++, q += taps) p[q] = 0;
            for (let from = xBatch + (r * w + j0 * sw + t * dw - left) * ci + c; j < j1; j++, q += taps, from += sw * ci) p[q] = xs[from];
            for (; j < wo; j++, q += taps) p[q] = 0;
          }
        }
      }
    }
  }
}

export const conv2DBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: WASM,
  kernelFunc: conv2DBackpropFilterWasm,
};
