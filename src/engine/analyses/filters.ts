/**
 * Convolution kernels as image tiles, with a roughness score per filter, the noisy ones, and a
 * weight histogram.
 *
 * Tiles: the first convolution on an RGB image is shown in colour (one kh×kw×3 tile per filter);
 * deeper layers either average over the input channels (`mean`, one grey tile per filter, the
 * default) or show one grey tile per input channel (`per-channel`). Each filter's tiles are
 * normalised together to [0, 1] (min–max by default; `symmetric` maps 0 to 0.5), so the relative
 * strength of a filter's channels is kept but filters of different scale are all visible.
 *
 * Roughness and noisy filters (per filter, over all its input channels, independent of the display
 * mode): Geary's C of neighbouring weights, 0 smooth … ≈ 1 like white noise … > 1 alternating,
 * and a randomisation test of whether the filter's arrangement differs from a random one
 * (`filterRoughness.ts`, which explains both). Kernels without neighbour pairs (1×1) or all-zero
 * kernels have no score (`null`) and are never flagged.
 */
import type * as tf from '@tensorflow/tfjs';
import type { InspectableModel, LayerNode } from '../model/inspectableModel';
import { findLayer } from '../model/inspectableModel';
import { layerMap } from './common';
import { isUnitLayer } from './activationPoints';
import { addSums, NOISY_Z, perFilterTestable, roughness, roughnessSums, structureZ, type RoughnessSums } from './filterRoughness';

export type FilterMode = 'auto' | 'rgb' | 'per-channel' | 'mean';

export interface FilterOptions {
  /** `auto` (default): `rgb` for a first conv on a 3-channel input, `mean` otherwise. */
  mode?: FilterMode;
  /** Per-filter normalisation of the tiles: `minmax` (default) or `symmetric` (0 → 0.5). */
  normalize?: 'minmax' | 'symmetric';
  /** Channel order of the model's input, so RGB tiles are shown in RGB order. Default `rgb`. */
  channelOrder?: 'rgb' | 'bgr';
  /** Histogram bins (default 50). */
  bins?: number;
  /** |z| below which a filter counts as noisy (default `NOISY_Z`, two-sided 5 %). */
  noisyZ?: number;
}

export interface WeightHistogram {
  /** `bins + 1` bin edges, ascending. */
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
  std: number;
  count: number;
}

export type KernelKind = 'conv' | 'depthwise' | 'separable-depthwise' | 'conv-transpose';

/** Alias kept for callers that name the per-layer result this way. */
export type LayerFilters = FilterTiles;

export interface FilterTiles {
  layer: string;
  className: string;
  kind: KernelKind;
  kernelHeight: number;
  kernelWidth: number;
  /** Input channels of the kernel (per group for depthwise: 1). */
  inChannels: number;
  /** Number of filters (tiles groups). For depthwise: input channels × depth multiplier. */
  filters: number;
  depthMultiplier?: number;
  mode: 'rgb' | 'per-channel' | 'mean' | 'single';
  /** 3 for `rgb`, else 1. */
  tileChannels: number;
  /** Tiles per filter: input channels for `per-channel`, else 1. */
  tilesPerFilter: number;
  /** `filters × tilesPerFilter × kernelHeight × kernelWidth × tileChannels` values in [0, 1]. */
  tiles: Float32Array;
  /** Raw weight range of each filter (before normalisation). */
  weightMin: Float32Array;
  weightMax: Float32Array;
  /** Roughness (Geary's C) per filter: 0 smooth, ≈ 1 like white noise; `null` for 1×1 or all-zero filters. */
  roughness: (number | null)[];
  /** z of each filter's roughness against a random arrangement of its weights; `null` where undefined. */
  structureZ: (number | null)[];
  /** Filters whose arrangement is indistinguishable from a random one (|z| < `noisyZ`); all false unless `perFilterTest`. */
  noisy: boolean[];
  noisyZ: number;
  /** Whether kernels of this shape hold enough weights to judge filters one by one (see `filterRoughness.ts`). */
  perFilterTest: boolean;
  /** Roughness and z of the whole layer, every filter's sums pooled; `null` without neighbour pairs. */
  layerRoughness: number | null;
  layerStructureZ: number | null;
  /** Histogram of the displayed kernel's weights (biases excluded). */
  histogram: WeightHistogram;
}

export function weightHistogram(values: ArrayLike<number>, bins = 50): WeightHistogram {
  const nb = Math.max(1, Math.floor(bins));
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const count = values.length;
  if (count === 0) return { edges: [0, 1], counts: [0], min: 0, max: 0, mean: 0, std: 0, count: 0 };
  const mean = sum / count;
  let sq = 0;
  for (let i = 0; i < count; i++) sq += (values[i] - mean) ** 2;
  let lo = min;
  let hi = max;
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / nb;
  const edges = Array.from({ length: nb + 1 }, (_, i) => (i === nb ? hi : lo + i * width));
  const counts = new Array<number>(nb).fill(0);
  for (let i = 0; i < count; i++) {
    let b = Math.floor((values[i] - lo) / width);
    if (b >= nb) b = nb - 1;
    if (b < 0) b = 0;
    counts[b]++;
  }
  return { edges, counts, min, max, mean, std: Math.sqrt(sq / count), count };
}

const DEPTHWISE = new Set(['DepthwiseConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const TRANSPOSE = new Set(['Conv2DTranspose', 'Conv2DBackpropInput']);
const CONV = new Set(['Conv1D', 'Conv2D', '_FusedConv2D', 'FusedConv2D', 'SeparableConv2D', 'SeparableConv1D', ...DEPTHWISE, ...TRANSPOSE]);

/** Layers that have kernels `filters()` can show, in topological order. */
export function filterLayers(model: InspectableModel): string[] {
  return model.layers.filter((l) => CONV.has(l.className)).map((l) => l.name);
}

interface KernelRef {
  node: LayerNode;
  index: number;
  shape: number[];
}

/** Finds the layer's kernel among its weights (or, for graph nodes, a constant operand). */
function findKernel(model: InspectableModel, node: LayerNode): KernelRef {
  const preferred = node.className.startsWith('Separable') || DEPTHWISE.has(node.className) ? ['depthwise_kernel'] : ['kernel'];
  const pick = (n: LayerNode): KernelRef | undefined => {
    let i = n.weights.findIndex((w) => preferred.includes(w.name));
    if (i < 0) i = n.weights.findIndex((w) => w.shape.length === 4 || w.shape.length === 3);
    return i >= 0 ? { node: n, index: i, shape: n.weights[i].shape } : undefined;
  };
  const own = pick(node);
  if (own) return own;
  // Graph models: the filter may be a separate Const node feeding the op.
  const byName = layerMap(model);
  for (const src of node.inbound.slice(1)) {
    const n = byName.get(src);
    if (n && n.weights.length) {
      const r = pick(n);
      if (r) return r;
    }
  }
  throw new Error(`${model.path}: layer "${node.name}" (${node.className}) has no convolution kernel to show`);
}

function isFirstConv(model: InspectableModel, node: LayerNode): boolean {
  const byName = layerMap(model);
  const seen = new Set<string>();
  const stack = [...node.inbound];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const n = byName.get(name);
    if (!n) continue;
    if (isUnitLayer(n)) return false;
    stack.push(...n.inbound);
  }
  return true;
}

/** Kernels of one conv layer as display tiles, with roughness, noisy filters and a weight histogram. */
export function filters(model: InspectableModel, layerName: string, options: FilterOptions = {}): FilterTiles {
  const node = findLayer(model, layerName);
  if (!CONV.has(node.className)) {
    throw new Error(`${model.path}: layer "${layerName}" (${node.className}) is not a convolution`);
  }
  const ref = findKernel(model, node);
  const weights: tf.Tensor[] = model.layerWeights(ref.node.name);
  const tensor = weights[ref.index];
  // Owned by the model: read, never dispose. Kernels are small; a blocking read is fine.
  const raw = tensor.dataSync() as Float32Array;
  let shape = [...tensor.shape];
  if (shape.length === 3) shape = [1, ...shape]; // Conv1D: [k, Cin, Cout] → [1, k, Cin, Cout]
  if (shape.length !== 4) throw new Error(`${model.path}: kernel of "${layerName}" has shape [${shape.join(', ')}]; expected 4-D`);
  const [kh, kw, a2, a3] = shape;

  let kind: KernelKind;
  if (node.className.startsWith('Separable')) kind = 'separable-depthwise';
  else if (DEPTHWISE.has(node.className)) kind = 'depthwise';
  else if (TRANSPOSE.has(node.className)) kind = 'conv-transpose';
  else kind = 'conv';

  // Describe the kernel as value(filter f, y, x, input channel c) = raw[y*sy + x*sx + off(f) + c*sc].
  let nFilters: number;
  let cin: number;
  let filterOffset: (f: number) => number;
  let sc: number;
  const sx = a2 * a3;
  const sy = kw * sx;
  let depthMultiplier: number | undefined;
  if (kind === 'depthwise' || kind === 'separable-depthwise') {
    // [kh, kw, Cin, M]: output channel f = c·M + m sees only input channel c, at offset c·M + m = f.
    depthMultiplier = a3;
    nFilters = a2 * a3;
    cin = 1;
    filterOffset = (f) => f;
    sc = 0;
  } else if (kind === 'conv-transpose') {
    // [kh, kw, Cout, Cin]
    nFilters = a2;
    cin = a3;
    filterOffset = (f) => f * a3;
    sc = 1;
  } else {
    // [kh, kw, Cin, Cout]
    nFilters = a3;
    cin = a2;
    filterOffset = (f) => f;
    sc = a3;
  }

  let mode: FilterTiles['mode'];
  const requested = options.mode ?? 'auto';
  if (cin === 1) mode = 'single';
  else if (requested === 'rgb') {
    if (cin !== 3) throw new Error(`${model.path}: layer "${layerName}" has ${cin} input channels; RGB tiles need 3`);
    mode = 'rgb';
  } else if (requested === 'auto') mode = cin === 3 && model.input.channels === 3 && isFirstConv(model, node) ? 'rgb' : 'mean';
  else mode = requested;

  const tileChannels = mode === 'rgb' ? 3 : 1;
  const tilesPerFilter = mode === 'per-channel' ? cin : 1;
  const tileSize = kh * kw * tileChannels;
  const perFilter = tilesPerFilter * tileSize;
  const tiles = new Float32Array(nFilters * perFilter);
  const weightMin = new Float32Array(nFilters);
  const weightMax = new Float32Array(nFilters);
  const rough: (number | null)[] = [];
  const zs: (number | null)[] = [];
  const noisy: boolean[] = [];
  const noisyZ = options.noisyZ ?? NOISY_Z;
  const perFilterTest = perFilterTestable(kh, kw, cin);
  let layerSums: RoughnessSums | null = null;
  const bgr = options.channelOrder === 'bgr';
  const filterBuf = new Float32Array(kh * kw * cin); // [kh][kw][cin]

  for (let f = 0; f < nFilters; f++) {
    const off = filterOffset(f);
    let lo = Infinity;
    let hi = -Infinity;
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let c = 0; c < cin; c++) {
          const v = raw[y * sy + x * sx + off + c * sc];
          filterBuf[(y * kw + x) * cin + c] = v;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
    weightMin[f] = lo;
    weightMax[f] = hi;
    const sums = lo === 0 && hi === 0 ? null : roughnessSums(filterBuf, kh, kw, cin);
    const z = sums ? structureZ(sums) : null;
    rough.push(sums ? roughness(sums) : null);
    zs.push(z);
    noisy.push(perFilterTest && z !== null && Math.abs(z) < noisyZ);
    if (sums) layerSums = layerSums ? addSums(layerSums, sums) : sums;

    // Tile values for this filter (before normalisation).
    const base = f * perFilter;
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const src = (y * kw + x) * cin;
        if (mode === 'rgb') {
          for (let c = 0; c < 3; c++) tiles[base + (y * kw + x) * 3 + c] = filterBuf[src + (bgr ? 2 - c : c)];
        } else if (mode === 'per-channel') {
          for (let c = 0; c < cin; c++) tiles[base + c * tileSize + y * kw + x] = filterBuf[src + c];
        } else {
          let sum = 0;
          for (let c = 0; c < cin; c++) sum += filterBuf[src + c];
          tiles[base + y * kw + x] = sum / cin;
        }
      }
    }
    // Normalise the filter's tiles together.
    let tlo = Infinity;
    let thi = -Infinity;
    for (let i = base; i < base + perFilter; i++) {
      if (tiles[i] < tlo) tlo = tiles[i];
      if (tiles[i] > thi) thi = tiles[i];
    }
    if (options.normalize === 'symmetric') {
      const m = Math.max(Math.abs(tlo), Math.abs(thi));
      for (let i = base; i < base + perFilter; i++) tiles[i] = m > 0 ? 0.5 + tiles[i] / (2 * m) : 0.5;
    } else {
      const range = thi - tlo;
      for (let i = base; i < base + perFilter; i++) tiles[i] = range > 0 ? (tiles[i] - tlo) / range : 0.5;
    }
  }

  return {
    layer: node.name,
    className: node.className,
    kind,
    kernelHeight: kh,
    kernelWidth: kw,
    inChannels: cin,
    filters: nFilters,
    ...(depthMultiplier != null ? { depthMultiplier } : {}),
    mode,
    tileChannels,
    tilesPerFilter,
    tiles,
    weightMin,
    weightMax,
    roughness: rough,
    structureZ: zs,
    noisy,
    noisyZ,
    perFilterTest,
    layerRoughness: layerSums ? roughness(layerSums) : null,
    layerStructureZ: layerSums ? structureZ(layerSums) : null,
    histogram: weightHistogram(raw, options.bins ?? 50),
  };
}
