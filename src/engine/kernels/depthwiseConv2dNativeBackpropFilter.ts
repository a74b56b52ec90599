/**
 * `DepthwiseConv2dNativeBackpropFilter` for the wasm backend (dL/dW of a depthwise convolution),
 * built from the wasm backend's XNNPACK `DepthwiseConv2dNative`, `Transpose` and `Sum`.
 *
 * Identity. The forward depthwise conv (filter `[kh, kw, C, M]`, output channel c·M + m) is
 *
 *     y[n, i, j, c·M + m] = Σ_{a, b} xp[n, i·s_h + a·d_h, j·s_w + b·d_w, c] · W[a, b, c, m]
 *
 * so   dW[a, b, c, m] = Σ_n Σ_{i, j} xp[n, a·d_h + i·s_h, b·d_w + j·s_w, c] · dy[n, i, j, c·M + m].
 *
 * The inner sum over (i, j) is a depthwise convolution of xp with dy as the filter (stride and
 * dilation swapped, as for the regular conv: see conv2DBackpropFilter.ts). A depthwise conv does
 * not contract over its channels, so the batch is folded into the channel axis instead:
 *   - input   X'[0, r, c', n·C + c] = xp[n, r, c', c]          (x → [H, W, N, C] → [1, H, W, N·C])
 *   - filter  F[i, j, n·C + c, m] = dy[n, i, j, c·M + m]        (dy → [Ho, Wo, N, C·M] → [Ho, Wo, N·C, M])
 *   - output  out[0, a, b, (n·C + c)·M + m] = Σ_{i,j} X'·F      → view [kh, kw, N, C·M]
 * and the batch is then summed out (Sum over axis 2) giving [kh, kw, C·M] = [kh, kw, C, M].
 * The multiply-adds equal those of the forward pass; only the N-fold wider intermediate is extra.
 *
 * Padding and cropping are handled exactly as in conv2DBackpropFilter.ts.
 */
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { assertChannelsLast, convGeometry, cropForConv, planDim, view, withScratch, WASM } from './wasmKernelUtils';

export const depthwiseConv2dNativeBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs & { dataFormat?: string };
  assertChannelsLast('DepthwiseConv2dNativeBackpropFilter', a.dataFormat);
  const { info, kh, kw, sh, sw, dh, dw, ho, wo } = convGeometry(x.shape, a.filterShape, a, true);
  const [n, h, w, c] = x.shape;
  const m = a.filterShape[3];
  if (a.filterShape[2] !== c || dy.shape[0] !== n || dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[3] !== c * m) {
    throw new Error(
      `DepthwiseConv2dNativeBackpropFilter (wasm): x [${x.shape}], dy [${dy.shape}] and filter [${a.filterShape}] do not match`,
    );
  }

  return withScratch(backend, (s) => {
    const ph = planDim(h, info.padInfo.top, (kh - 1) * dh + (ho - 1) * sh + 1);
    const pw = planDim(w, info.padInfo.left, (kw - 1) * dw + (wo - 1) * sw + 1);
    // X'[0, r, c', n·C + c]
    const xt = view(s.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
    const cropped = cropForConv(s, xt, ph, pw);
    if (!cropped) return s.zeros([kh, kw, c, m]);
    // F[i, j, n·C + c, m]
    const f = view(s.transpose(dy, [1, 2, 0, 3]), [ho, wo, n * c, m]);
    const out = s.depthwiseConv2d(cropped.x, f, [dh, dw], [sh, sw], cropped.pads);
    if (out.shape[1] !== kh || out.shape[2] !== kw) {
      throw new Error(`DepthwiseConv2dNativeBackpropFilter (wasm): internal shape error [${out.shape}]`);
    }
    if (n === 1) return view(out, [kh, kw, c, m]);
    const summed = s.sum(view(out, [kh, kw, n, c * m]), [2]);
    return view(summed, [kh, kw, c, m]);
  });
};

export const depthwiseConv2dNativeBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: WASM,
  kernelFunc: depthwiseConv2dNativeBackpropFilterWasm,
};
