/**
 * Small helpers shared by the analyses: reading layer configs written in either naming scheme
 * (TF.js `getConfig()` is camelCase, Keras JSON is snake_case, graph-model nodes carry TensorFlow
 * attributes in proto-JSON or tfjs-converter form), shapes, the consumer graph, and turning a
 * `Batch` into an input tensor.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel, LayerNode } from '../model/inspectableModel';
import type { Batch } from '../io/datasets/types';

export type Shape = readonly (number | null)[];

/** Product of the dimensions, batch dimension (index 0) excluded; `undefined` if any is unknown. */
export function elementsPerItem(shape: Shape | undefined): number | undefined {
  if (!shape || shape.length === 0) return undefined;
  let n = 1;
  for (let i = 1; i < shape.length; i++) {
    const d = shape[i];
    if (d == null || d < 0) return undefined;
    n *= d;
  }
  return n;
}

export function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Unwraps an attribute value in any of the forms a node may carry it:
 * plain (`[1, 2, 2, 1]`, `"SAME"`), tfjs-converter param (`{value, type}`), or TensorFlow
 * proto JSON (`{list: {i: ["1", "2"]}}`, `{i: "3"}`, `{s: "<base64>"}`, `{f: 0.2}`, `{b: true}`).
 */
export function unwrapAttr(v: unknown): unknown {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  if ('value' in o && Object.keys(o).every((k) => k === 'value' || k === 'type')) return o.value;
  if ('list' in o && o.list && typeof o.list === 'object') {
    const l = o.list as Record<string, unknown>;
    for (const k of ['i', 'f', 's', 'b', 'shape', 'type']) {
      if (Array.isArray(l[k])) return (l[k] as unknown[]).map((x) => unwrapAttr(k === 'i' || k === 'f' ? { [k]: x } : k === 's' ? { s: x } : x));
    }
    return [];
  }
  if ('i' in o) return Number(o.i);
  if ('f' in o) return Number(o.f);
  if ('b' in o) return Boolean(o.b);
  if ('s' in o && typeof o.s === 'string') return decodeProtoString(o.s);
  return v;
}

/** Proto-JSON strings are base64; tfjs-converter may already have decoded them. */
function decodeProtoString(s: string): string {
  if (/^[A-Za-z0-9+/]+=*$/.test(s) && s.length % 4 === 0) {
    const decoded = Buffer.from(s, 'base64').toString('utf8');
    if (/^[\x20-\x7e]+$/.test(decoded)) return decoded;
  }
  return s;
}

/** Reads a config/attribute under its snake_case or camelCase name (plus any aliases). */
export function cfg(config: Record<string, unknown> | undefined, ...names: string[]): unknown {
  if (!config) return undefined;
  for (const name of names) {
    for (const key of [name, snake(name), camel(name)]) {
      if (key in config && config[key] !== undefined) return unwrapAttr(config[key]);
    }
  }
  return undefined;
}

export function cfgNumbers(config: Record<string, unknown> | undefined, ...names: string[]): number[] | undefined {
  const v = cfg(config, ...names);
  if (v == null) return undefined;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) {
    const nums = v.map((x) => Number(x));
    return nums.every((x) => Number.isFinite(x)) ? nums : undefined;
  }
  const n = Number(v);
  return Number.isFinite(n) ? [n] : undefined;
}

export function cfgStrings(config: Record<string, unknown> | undefined, ...names: string[]): string[] {
  const v = cfg(config, ...names);
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (typeof v === 'string') return [v];
  return [];
}

/** True when a Keras-style layer uses `channels_first` (TF.js spells it `channelsFirst`). */
export function isChannelsFirst(node: LayerNode): boolean {
  const f = cfg(node.config, 'data_format', 'dataFormat');
  if (typeof f !== 'string') return false;
  const s = f.toLowerCase().replace(/_/g, '');
  return s === 'channelsfirst' || s === 'nchw';
}

/** Map layer name -> names of the layers that consume its output. */
export function consumersOf(model: InspectableModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of model.layers) out.set(l.name, []);
  for (const l of model.layers) {
    for (const src of l.inbound) {
      const list = out.get(src);
      if (list) {
        if (!list.includes(l.name)) list.push(l.name);
      } else {
        out.set(src, [l.name]);
      }
    }
  }
  return out;
}

export function layerMap(model: InspectableModel): Map<string, LayerNode> {
  return new Map(model.layers.map((l) => [l.name, l]));
}

/** Number of images in `images` for the model's input geometry; throws if it does not divide. */
export function imageCount(model: InspectableModel, images: Float32Array, count?: number): number {
  const { height, width, channels } = model.input;
  const per = height * width * channels;
  const n = count ?? images.length / per;
  if (!Number.isInteger(n) || n * per !== images.length) {
    throw new Error(
      `${model.path}: got ${images.length} input values, which is not a whole number of ${height}x${width}x${channels} images` +
        (count != null ? ` (batch says ${count} images)` : ''),
    );
  }
  return n;
}

/** The batch as an NHWC input tensor (the caller disposes it). */
export function batchTensor(model: InspectableModel, images: Float32Array, count?: number): tf.Tensor4D {
  const n = imageCount(model, images, count);
  const { height, width, channels } = model.input;
  return tf.tensor4d(images, [n, height, width, channels]);
}

export function asBatchImages(images: Batch | Float32Array): { images: Float32Array; count?: number } {
  if (images instanceof Float32Array) return { images };
  return { images: images.images, count: images.count };
}
