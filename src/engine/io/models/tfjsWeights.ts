/**
 * Reads the weights of a TF.js model (Layers or Graph format) from disk: the `weightsManifest`
 * of model.json names groups of binary shards that sit beside it. Within a group the weights
 * are concatenated in manifest order and the byte stream is cut into shards (the converter's
 * `--weight_shard_size_bytes`, 4 MiB by default), so only the group's total size is known from
 * the manifest; the per-shard expectation used in messages is inferred from that layout.
 *
 * Everything here works on plain bytes and typed arrays: no tensor is created, so nothing can
 * leak when a file turns out to be bad.
 */
import * as path from 'path';
import { fail, fileSize, formatShape, isRecord, readFileBytes } from './common';

export type WeightDtype = 'float32' | 'int32' | 'bool';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  /** Present when the converter stored the values quantized (`--quantize_*`). */
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number };
  /** "optimizer" for optimizer state saved by TF.js `model.save(..., {includeOptimizer})`. */
  group?: string;
}

export interface DecodedWeight {
  name: string;
  group?: string;
  shape: number[];
  dtype: WeightDtype;
  /** Dequantized values: Float32Array for float32, Int32Array for int32, Uint8Array for bool. */
  data: Float32Array | Int32Array | Uint8Array;
}

export interface LoadedWeights {
  specs: WeightSpec[];
  /** All groups' shards concatenated, in manifest order (what TF.js' own loaders hand on). */
  data: ArrayBuffer;
}

const DTYPE_BYTES: Record<WeightDtype, number> = { float32: 4, int32: 4, bool: 1 };
const QUANT_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

/** Bytes a weight occupies in the shards. */
export function specByteLength(spec: WeightSpec): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  return count * (spec.quantization ? QUANT_BYTES[spec.quantization.dtype] : DTYPE_BYTES[spec.dtype]);
}

function parseSpec(file: string, raw: unknown, where: string): WeightSpec {
  if (!isRecord(raw) || typeof raw.name !== 'string') fail(file, `weightsManifest ${where} has no "name"`);
  const name = raw.name;
  const shape = raw.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    fail(file, `weight "${name}" has an invalid shape ${JSON.stringify(shape)} in weightsManifest`);
  }
  const dtype = raw.dtype ?? 'float32';
  if (dtype === 'string') fail(file, `weight "${name}" holds strings, which CNN Lens does not load`);
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    fail(file, `weight "${name}" has unsupported dtype "${String(dtype)}"`);
  }
  const spec: WeightSpec = { name, shape: shape as number[], dtype };
  if (typeof raw.group === 'string') spec.group = raw.group;
  const q = raw.quantization;
  if (q != null) {
    if (!isRecord(q) || !(typeof q.dtype === 'string' && q.dtype in QUANT_BYTES)) {
      fail(file, `weight "${name}" has an unsupported quantization ${JSON.stringify(q)}`);
    }
    const qd = q.dtype as 'uint8' | 'uint16' | 'float16';
    if (qd !== 'float16' && (typeof q.min !== 'number' || typeof q.scale !== 'number')) {
      fail(file, `weight "${name}" is ${qd}-quantized but its quantization has no numeric "min" and "scale"`);
    }
    if (qd === 'float16' && dtype !== 'float32') fail(file, `weight "${name}" is float16-quantized but its dtype is ${dtype}`);
    spec.quantization = { dtype: qd, min: q.min as number | undefined, scale: q.scale as number | undefined };
  }
  return spec;
}

/**
 * Reads every shard the manifest lists (relative to `modelJsonFile`'s folder), checks each
 * group's bytes against what its weight specs need, and returns the specs and the bytes.
 */
export function loadWeightShards(modelJsonFile: string, manifest: unknown): LoadedWeights {
  const file = modelJsonFile;
  if (manifest == null) fail(file, 'model.json has no "weightsManifest": the model\'s weights are missing');
  if (!Array.isArray(manifest)) fail(file, '"weightsManifest" in model.json is not a list of weight groups');
  const dir = path.dirname(modelJsonFile);
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  manifest.forEach((group, g) => {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      fail(file, `weightsManifest group ${g + 1} needs "paths" and "weights" lists`);
    }
    const groupSpecs = group.weights.map((w, k) => parseSpec(file, w, `group ${g + 1} entry ${k + 1}`));
    const paths = group.paths.map((p, k) => {
      if (typeof p !== 'string' || p.length === 0) fail(file, `weightsManifest group ${g + 1} path ${k + 1} is not a file name`);
      return p;
    });
    const expected = groupSpecs.reduce((a, s) => a + specByteLength(s), 0);
    checkShardSizes(file, dir, paths, expected);
    for (const p of paths) parts.push(readFileBytes(path.resolve(dir, p), file, `weight shard ${p}`));
    specs.push(...groupSpecs);
  });
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.byteLength;
  }
  return { specs, data: data.buffer };
}

/**
 * The converter fills every shard but the last to the same size. When the sizes on disk do not
 * add up to what the specs need, that layout tells which shard is short (or long) and by how
 * much, so the message can name it.
 */
function checkShardSizes(file: string, dir: string, paths: string[], expectedTotal: number): void {
  const sizes = paths.map((p) => {
    const size = fileSize(path.resolve(dir, p));
    if (size === undefined) fail(file, `weight shard ${p} is missing (model.json lists it; looked for ${path.resolve(dir, p)})`);
    return size;
  });
  const actualTotal = sizes.reduce((a, b) => a + b, 0);
  if (actualTotal === expectedTotal) return;
  const bad = findOddShard(sizes, expectedTotal);
  if (bad) {
    const s = sizes[bad.index];
    const how = s < bad.expected ? 'is truncated' : 'is too long';
    fail(file, `weight shard ${paths[bad.index]} ${how}: expected ${bad.expected} bytes, found ${s}`);
  }
  fail(
    file,
    `weight shards ${paths.join(', ')} hold ${actualTotal} bytes, but the weights listed with them need ${expectedTotal}`,
  );
}

/**
 * Finds the single shard whose size breaks the "n-1 full shards of size S, then the rest"
 * layout. S is unknown, so each plausible S (a non-last shard's size, or the one implied by the
 * last shard) is tried; when several explain the sizes with one odd shard, a round S (whole
 * KiB, as the converter's shard sizes are) wins over the odd byte count a truncation leaves.
 */
function findOddShard(sizes: number[], expectedTotal: number): { index: number; expected: number } | undefined {
  const n = sizes.length;
  if (n === 1) return { index: 0, expected: expectedTotal };
  const candidates = new Set(sizes.slice(0, -1));
  const implied = (expectedTotal - sizes[n - 1]) / (n - 1);
  if (Number.isInteger(implied) && implied > 0) candidates.add(implied);
  const fits: { s: number; index: number; expected: number }[] = [];
  for (const s of candidates) {
    const last = expectedTotal - s * (n - 1);
    if (last <= 0 || last > s) continue;
    const expected = sizes.map((_, i) => (i < n - 1 ? s : last));
    const odd = sizes.flatMap((size, i) => (size !== expected[i] ? [i] : []));
    if (odd.length === 1) fits.push({ s, index: odd[0], expected: expected[odd[0]] });
  }
  fits.sort((a, b) => Number(b.s % 1024 === 0) - Number(a.s % 1024 === 0) || b.s - a.s);
  return fits[0];
}

function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes (and dequantizes) every weight into typed arrays, in spec order. */
export function decodeWeights(file: string, loaded: LoadedWeights): DecodedWeight[] {
  const out: DecodedWeight[] = [];
  const view = new DataView(loaded.data);
  let at = 0;
  for (const spec of loaded.specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = specByteLength(spec);
    if (at + bytes > loaded.data.byteLength) {
      fail(file, `weight "${spec.name}" ${formatShape(spec.shape)} runs past the end of the weight data`);
    }
    let data: Float32Array | Int32Array | Uint8Array;
    const q = spec.quantization;
    if (q) {
      const raw =
        q.dtype === 'uint8'
          ? new Uint8Array(loaded.data, at, count)
          : Array.from({ length: count }, (_, i) => view.getUint16(at + 2 * i, true));
      if (q.dtype === 'float16') {
        data = Float32Array.from(raw, float16ToFloat32);
      } else {
        const scale = q.scale as number;
        const min = q.min as number;
        data = spec.dtype === 'int32' ? Int32Array.from(raw, (v) => Math.round(v * scale + min)) : Float32Array.from(raw, (v) => v * scale + min);
      }
    } else if (spec.dtype === 'bool') {
      data = new Uint8Array(loaded.data.slice(at, at + bytes));
    } else {
      // Copies, so the result is aligned whatever the offset, and little-endian on any host.
      const arr = spec.dtype === 'int32' ? new Int32Array(count) : new Float32Array(count);
      for (let i = 0; i < count; i++) {
        arr[i] = spec.dtype === 'int32' ? view.getInt32(at + 4 * i, true) : view.getFloat32(at + 4 * i, true);
      }
      data = arr;
    }
    out.push({ name: spec.name, group: spec.group, shape: spec.shape, dtype: spec.dtype, data });
    at += bytes;
  }
  return out;
}
