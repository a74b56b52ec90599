/**
 * `DepthwiseConv2dNativeBackpropInput` for the wasm backend (dL/dx of a depthwise convolution),
 * built from the wasm backend's XNNPACK `DepthwiseConv2dNative`, `Reverse`, `PadV2` and `Sum`.
 *
 * Identity. With the forward depthwise conv
 *     y[n, i, j, c·M + m] = Σ_{a, b} xp[n, i·s_h + a·d_h, j·s_w + b·d_w, c] · W[a, b, c, m]
 * the input gradient is
 *
 *     dx[n, h, w, c] = Σ_m Σ_{a, b} dz[n, h + top − a·d_h, w + left − b·d_w, c·M + m] · W[a, b, c, m]
 *
 * where dz is dy zero-inserted by the stride (dz[n, i·s_h, j·s_w] = dy[n, i, j], zeros elsewhere).
 * Flipping the taps (a' = kh−1−a) makes it a correlation:
 *
 *     dx[n, h, w, c] = Σ_m Σ_{a', b'} dzp[n, h + a'·d_h, w + b'·d_w, c·M + m] · Wf[a', b', c·M + m]
 *
 * with dzp = dz padded by (kh−1)·d_h − top in front (total H + (kh−1)·d_h rows) and
 * Wf = W reversed on both spatial axes. Because the filter `[kh, kw, C, M]` laid out flat is
 * exactly `[kh, kw, C·M, 1]`, the Σ_{a',b'} part is one stride-1, dilation-d depthwise conv of
 * dzp (C·M channels, multiplier 1); its output channel c·M + m is then summed over m (a Sum over
 * the last axis of the `[N, H, W, C, M]` view; skipped when M = 1).
 *
 * Stride > 1 costs s_h·s_w times the minimal work (the inserted zeros are multiplied too); fine for
 * the depthwise convs this is used for, which are cheap compared to the pointwise convs.
 */
import type { DepthwiseConv2dNativeBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { assertChannelsLast, convGeometry, cropForConv, planDim, view, withScratch, WASM, zeroInsert } from './wasmKernelUtils';

export const depthwiseConv2dNativeBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs & { dataFormat?: string };
  assertChannelsLast('DepthwiseConv2dNativeBackpropInput', a.dataFormat);
  const { info, kh, kw, sh, sw, dh, dw, ho, wo } = convGeometry(a.inputShape, filter.shape, a, true);
  const [n, h, w, c] = a.inputShape;
  const m = filter.shape[3];
  if (filter.shape[2] !== c || dy.shape[0] !== n || dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[3] !== c * m) {
    throw new Error(
      `DepthwiseConv2dNativeBackpropInput (wasm): dy [${dy.shape}], filter [${filter.shape}] and input [${a.inputShape}] do not match`,
    );
  }

  return withScratch(backend, (s) => {
    const dz = zeroInsert(s, dy, sh, sw);
    const ph = planDim(dz.shape[1], (kh - 1) * dh - info.padInfo.top, h + (kh - 1) * dh);
    const pw = planDim(dz.shape[2], (kw - 1) * dw - info.padInfo.left, w + (kw - 1) * dw);
    const cropped = cropForConv(s, dz, ph, pw);
    if (!cropped) return s.zeros([n, h, w, c]);
    // Wf[a', b', c·M + m, 0] = W[kh-1-a', kw-1-b', c, m]
    const wf = view(s.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
    const out = s.depthwiseConv2d(cropped.x, wf, [1, 1], [dh, dw], cropped.pads);
    if (out.shape[1] !== h || out.shape[2] !== w) {
      throw new Error(`DepthwiseConv2dNativeBackpropInput (wasm): internal shape error [${out.shape}] for input [${a.inputShape}]`);
    }
    if (m === 1) return out;
    return s.sum(view(out, [n, h, w, c, m]), [4]);
  });
};

export const depthwiseConv2dNativeBackpropInputWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: WASM,
  kernelFunc: depthwiseConv2dNativeBackpropInputWasm,
};
