/**
 * Small helpers for composing new wasm kernels out of the wasm backend's own kernels.
 *
 * Inside a kernel we must not call high-level `tf.*` ops: they go through the engine, which
 * would record them on the gradient tape (and track them as user-visible tensors). Instead we
 * fetch the registered wasm kernel functions and call them directly with `TensorInfo`s; every
 * intermediate they return is owned by us and must be released with `backend.disposeData`.
 *
 * Reshapes are done as "views": a `TensorInfo` sharing the `dataId` of its source with another
 * shape. A view is never disposed itself; its owner is.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

export const WASM = 'wasm';

/** Calls a kernel registered for the wasm backend, bypassing the engine (no tape, no tracking). */
export function runWasmKernel(
  name: string,
  backend: KernelBackend,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const config = tf.getKernel(name, WASM);
  if (!config) throw new Error(`CNN Lens wasm kernels: the wasm backend has no '${name}' kernel`);
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`CNN Lens wasm kernels: '${name}' returned several outputs`);
  return out;
}

/**
 * Tracks the intermediates of one kernel invocation so they can all be released at the end,
 * including when a step throws.
 */
export class Scratch {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: KernelBackend) {}

  /** Registers an intermediate produced by a kernel call; returns it. */
  own(t: TensorInfo): TensorInfo {
    this.owned.push(t);
    return t;
  }

  /** Removes `t` from the release list (it becomes the kernel's output). */
  keep(t: TensorInfo): TensorInfo {
    const i = this.owned.findIndex((o) => o.dataId === t.dataId);
    if (i >= 0) this.owned.splice(i, 1);
    return t;
  }

  disposeAll(): void {
    for (const t of this.owned.splice(0)) this.backend.disposeData(t.dataId);
  }

  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    return this.own(runWasmKernel(name, this.backend, inputs, attrs));
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  zeros(shape: number[]): TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /** NHWC convolution, explicit padding `[[top, bottom], [left, right]]` (all >= 0). */
  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pads: [[number, number], [number, number]],
  ): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      { strides, dilations, pad: [[0, 0], pads[0], pads[1], [0, 0]], dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap,
    );
  }

  /** NHWC depthwise convolution (filter `[kh, kw, inChannels, multiplier]`), explicit padding. */
  depthwiseConv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pads: [[number, number], [number, number]],
  ): TensorInfo {
    return this.run(
      'DepthwiseConv2dNative',
      { x, filter },
      { strides, dilations, pad: [[0, 0], pads[0], pads[1], [0, 0]], dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap,
    );
  }
}

/** A reshape that shares the source's data (never dispose a view; dispose its owner). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  const size = shape.reduce((a, b) => a * b, 1);
  const from = t.shape.reduce((a, b) => a * b, 1);
  if (size !== from) throw new Error(`CNN Lens wasm kernels: cannot view [${t.shape}] as [${shape}]`);
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** Normalises a `number | [number, number]` attribute. */
export function pair(v: number | number[] | undefined, fallback = 1): [number, number] {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  return [v[0], v.length > 1 ? v[1] : v[0]];
}

/** The convolution attributes the backprop kernels share. */
export interface ConvAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Geometry of the forward convolution a backprop kernel differentiates (NHWC), with short names. */
export function convGeometry(inputShape: number[], filterShape: number[], a: ConvAttrs, depthwise: boolean) {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    pair(a.dilations),
    a.pad,
    a.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    info,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    ho: info.outHeight,
    wo: info.outWidth,
  };
}

export function assertChannelsLast(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(
      `CNN Lens: the wasm ${kernel} kernel only supports NHWC (channels-last) data, got dataFormat '${String(dataFormat)}'. ` +
        'Use channelsLast layers/ops, or another backend for NCHW models.',
    );
  }
}

/**
 * Plans how to make one spatial dimension of length `len` look as if it were padded by `pre`
 * elements in front and then had exactly `total` elements. `pre` and the implied trailing pad may
 * be negative, meaning "crop". Cropping is done by a Slice (`begin`, `size`); the remaining
 * non-negative pads are handed to the convolution as explicit padding, so no padded copy is made.
 */
export interface DimPlan {
  begin: number;
  size: number;
  padBefore: number;
  padAfter: number;
}

export function planDim(len: number, pre: number, total: number): DimPlan {
  const begin = Math.max(0, -pre);
  const end = Math.min(len, total - pre);
  const size = end - begin;
  const padBefore = Math.max(0, pre);
  return { begin, size, padBefore, padAfter: total - padBefore - Math.max(size, 0) };
}

/**
 * Applies the crops of the plans for dimensions 1 and 2 of a rank-4 tensor (a Slice only when
 * needed) and returns the tensor plus the explicit pads left for the convolution.
 * Returns `undefined` when a dimension is cropped away entirely (the result is then all zeros).
 */
export function cropForConv(
  s: Scratch,
  x: TensorInfo,
  ph: DimPlan,
  pw: DimPlan,
): { x: TensorInfo; pads: [[number, number], [number, number]] } | undefined {
  if (ph.size <= 0 || pw.size <= 0) return undefined;
  let out = x;
  if (ph.begin !== 0 || pw.begin !== 0 || ph.size !== x.shape[1] || pw.size !== x.shape[2]) {
    out = s.slice(x, [0, ph.begin, pw.begin, 0], [x.shape[0], ph.size, pw.size, x.shape[3]]);
  }
  return { x: out, pads: [[ph.padBefore, ph.padAfter], [pw.padBefore, pw.padAfter]] };
}

/**
 * Spreads the rows/columns of an NHWC tensor `stride` apart, filling the gaps with zeros
 * ("zero insertion", the adjoint of a strided read). Output `[n, h*sh, w*sw, c]`: element
 * `(i, j)` lands on `(i*sh, j*sw)`; the last `sh-1` rows and `sw-1` columns are zeros too.
 * Done as reshape to `[n, h, 1, w, 1, c]` + PadV2 after the singleton axes + reshape back.
 */
export function zeroInsert(s: Scratch, x: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = s.pad(view(x, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return view(spread, [n, h * sh, w * sw, c]);
}

/** Runs `body` with a Scratch, releasing every intermediate except the returned output. */
export function withScratch(backend: unknown, body: (s: Scratch) => TensorInfo): TensorInfo {
  const s = new Scratch(backend as KernelBackend);
  try {
    return s.keep(body(s));
  } finally {
    s.disposeAll();
  }
}
