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
import { assertChannelsLast, cropForConv, pair, planDim, view, withScratch, WASM } from './wasmKernelUtils';

export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
  assertChannelsLast('Conv2DBackpropFilter', a.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    pair(a.dilations),
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, outHeight: ho, outWidth: wo } = info;
  if (dy.shape[0] !== x.shape[0] || dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[3] !== a.filterShape[3]) {
    throw new Error(
      `Conv2DBackpropFilter (wasm): dy shape [${dy.shape}] does not match the convolution output ` +
        `[${x.shape[0]},${ho},${wo},${a.filterShape[3]}]`,
    );
  }
  const [, h, w, ci] = x.shape;
  const co = a.filterShape[3];

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

export const conv2DBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: WASM,
  kernelFunc: conv2DBackpropFilterWasm,
};
