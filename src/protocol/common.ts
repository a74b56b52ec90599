/**
 * Types shared by every CNN Lens webview and the extension host. This folder is imported by both
 * sides (`src/` in Node, `webview/` in the browser), so it must stay free of runtime imports from
 * Node, VS Code or the engine: plain types and small pure functions only.
 *
 * The wire types below mirror the engine's result types (`src/engine/analyses/*.ts`) structurally;
 * the host checks assignability at compile time where it converts (see `src/webviewHost/wire.ts`).
 */

/** Dead units (channel indices) per layer name, from the last dead-filter scan of a model. */
export type DeadUnits = Record<string, number[]>;

/** Messages every webview may send. */
export type CommonWebviewMessage =
  /** The webview (re)loaded and wants its data: the host answers with the view's init message. */
  | { type: 'ready' }
  /** A Content-Security-Policy violation seen in the webview; the host logs it. */
  | { type: 'cspViolation'; directive: string; blockedUri: string };

/** Messages the host may send to every webview. */
export type CommonHostMessage =
  | { type: 'loading'; message: string }
  | { type: 'error'; message: string };

export interface WireInputGeometry {
  height: number;
  width: number;
  channels: number;
}

export interface WireLayerSummary {
  name: string;
  className: string;
  inbound: string[];
  inputShapes: (number | null)[][];
  outputShape: (number | null)[];
  trainableParams: number;
  nonTrainableParams: number;
  params: number;
  activation?: string;
  flops: number | null;
}

export interface WireModelSummary {
  name: string;
  path: string;
  format: string;
  input: WireInputGeometry;
  outputLayer: string;
  layers: WireLayerSummary[];
  totals: {
    params: number;
    trainableParams: number;
    nonTrainableParams: number;
    flops: number;
    uncountedLayers: string[];
  };
  flopsConvention: string;
}

/** What a view shows about the dataset configured for a model (no paths the webview could send back). */
export interface WireDatasetInfo {
  /** Display text for the dataset location (workspace-relative when possible). */
  label: string;
  kind: string;
  size: number;
  classNames?: string[];
  skipped: number;
}

export interface WireChannelStats {
  mean: Float32Array;
  max: Float32Array;
  min: Float32Array;
  zeroFraction: Float32Array;
  nonPositiveFraction: Float32Array;
}

/** One layer's feature maps for one image. `values` is HWC (or `[units]`), channels innermost. */
export interface WireLayerActivations {
  layer: string;
  className: string;
  shape: number[];
  channels: number;
  activation: string;
  deadApplicable: boolean;
  reason: string;
  values: Float32Array;
  stats?: WireChannelStats;
}

export interface WireWeightHistogram {
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
  std: number;
  count: number;
}

export interface WireFilterTiles {
  layer: string;
  className: string;
  kind: string;
  kernelHeight: number;
  kernelWidth: number;
  inChannels: number;
  filters: number;
  depthMultiplier?: number;
  mode: 'rgb' | 'per-channel' | 'mean' | 'single';
  tileChannels: number;
  tilesPerFilter: number;
  /** `filters × tilesPerFilter × kernelHeight × kernelWidth × tileChannels` values in [0, 1]. */
  tiles: Float32Array;
  weightMin: Float32Array;
  weightMax: Float32Array;
  roughness: (number | null)[];
  structureZ: (number | null)[];
  noisy: boolean[];
  noisyZ: number;
  perFilterTest: boolean;
  layerRoughness: number | null;
  layerStructureZ: number | null;
  histogram: WireWeightHistogram;
}

/** Typed arrays may arrive as plain objects / arrays from an older serializer: normalise. */
export function asFloat32Array(value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Float32Array.from(value as unknown as ArrayLike<number>);
  if (value instanceof ArrayBuffer) return new Float32Array(value);
  if (Array.isArray(value)) return Float32Array.from(value as number[]);
  if (value && typeof value === 'object') {
    // `{ "0": 1.5, "1": 2, ... }` (JSON of a typed array)
    const o = value as Record<string, number>;
    const n = Object.keys(o).length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(o[i]) || 0;
    return out;
  }
  return new Float32Array(0);
}
