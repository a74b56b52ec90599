/**
 * A minimal WebAssembly emitter for kernels that work directly on the wasm backend's heap with
 * 128-bit SIMD, for the memory-bound steps of training that no backend kernel does in one pass
 * (e.g. routing a max-pooling gradient). JavaScript loops over the heap run them at 2–3 ns per
 * element because their data-dependent comparisons branch (and mispredict on real data); the
 * same loop with f32x4 compares and bit masks is branch-free and does four channels at once.
 *
 * The module imports the backend's own `WebAssembly.Memory`, so kernels read and write tensors
 * in place (byte offsets from `backend.dataIdMap`/`makeOutput`), with no copies; memory growth
 * is seen automatically. Everything here is optional: `simdFunctions` returns undefined where
 * the backend has no plain (non-shared) memory or the engine lacks SIMD, and callers then keep
 * their JavaScript loop.
 *
 * Only the handful of instructions the kernels use are defined. Functions are written as flat
 * arrays of bytes built with the helpers below (stack machine order, as in the text format).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The parts of the WebAssembly JS API used here (this project's TypeScript `lib` does not
 * declare WebAssembly; Node provides it at run time).
 */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32 constants). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function bytesOf(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** Instructions (each returns its encoding). */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v | 0)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Eqz: [0x45],
  i32GtS: [0x4a],
  i32GeS: [0x4e],
  i32LtS: [0x48],
  f32Load: (offset = 0) => [0x2a, 0x02, ...uleb(offset)],
  f32Store: (offset = 0) => [0x38, 0x02, ...uleb(offset)],
  v128Load: (offset = 0) => [...simd(0x00), 0x00, ...uleb(offset)],
  v128Store: (offset = 0) => [...simd(0x0b), 0x00, ...uleb(offset)],
  f32x4Splat: simd(0x13),
  f32x4Eq: simd(0x41),
  f32x4Gt: simd(0x44),
  v128And: simd(0x4e),
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  f32x4Add: simd(0xe4),
  f32x4Pmax: simd(0xeb),
  f32Const: (v: number) => {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return [0x43, ...b];
  },
  /** `block … end` */
  block: (...body: number[][]) => [0x02, 0x40, ...body.flat(), 0x0b],
  /** `loop … end` */
  loop: (...body: number[][]) => [0x03, 0x40, ...body.flat(), 0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  br: (depth: number) => [0x0c, ...uleb(depth)],
};

/**
 * `for (counter = count; counter > 0; counter--) body` (the body runs `count` times, none when
 * count ≤ 0). `counter` is an i32 local the loop owns.
 */
export function repeat(counter: number, count: number[], ...body: number[][]): number[] {
  return [
    ...count,
    ...op.set(counter),
    ...op.block(
      op.get(counter),
      op.i32(0),
      [0x4c], // i32.le_s
      op.brIf(0),
      op.loop(...body, op.get(counter), op.i32(1), op.i32Sub, op.tee(counter), op.i32(0), op.i32GtS, op.brIf(0)),
    ),
  ];
}

/** `local += amount` for an i32 local. */
export function addTo(local: number, amount: number[]): number[] {
  return [...op.get(local), ...amount, ...op.i32Add, ...op.set(local)];
}

export interface SimdFunction {
  name: string;
  params: number[];
  locals: number[];
  body: number[][];
}

function encodeModule(fns: SimdFunction[]): Uint8Array {
  const types = vec(fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0x00]));
  // (import "env" "memory" (memory 0)) — any size, no maximum, so it matches the backend's memory.
  const imports = vec([[...bytesOf('env'), ...bytesOf('memory'), 0x02, 0x00, 0x00]]);
  const funcs = vec(fns.map((_, i) => uleb(i)));
  const exports = vec(fns.map((f, i) => [...bytesOf(f.name), 0x00, ...uleb(i)]));
  const codes = vec(
    fns.map((f) => {
      const locals = vec(f.locals.map((t) => [0x01, t]));
      const body = [...locals, ...f.body.flat(), 0x0b];
      return [...uleb(body.length), ...body];
    }),
  );
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, codes),
  ]);
}

/** The backend's linear memory, when it is a plain (non-shared) WebAssembly.Memory. */
function backendMemory(backend: unknown): WasmMemory | undefined {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (!wasmApi || !(memory instanceof wasmApi.Memory)) return undefined;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return undefined;
  return memory;
}

const instances = new WeakMap<WasmMemory, Map<string, Record<string, unknown>>>();

/**
 * Instantiates (once per backend memory and `key`) a module of the given functions over the
 * backend's memory and returns its exports, or undefined when that is not possible here.
 */
export function simdFunctions<T>(backend: unknown, key: string, build: () => SimdFunction[]): T | undefined {
  const memory = backendMemory(backend);
  if (!memory || !wasmApi) return undefined;
  let byKey = instances.get(memory);
  if (!byKey) instances.set(memory, (byKey = new Map()));
  const cached = byKey.get(key);
  if (cached) return cached as T;
  try {
    const bytes = encodeModule(build());
    if (!wasmApi.validate(bytes)) return undefined;
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
    byKey.set(key, instance.exports);
    return instance.exports as T;
  } catch {
    return undefined;
  }
}

/** Byte offset of a tensor's data in the backend's heap. */
export function heapOffset(backend: unknown, t: tf.TensorInfo): number {
  const data = (backend as { dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined } }).dataIdMap.get(t.dataId);
  if (!data) throw new Error('CNN Lens wasm kernels: tensor data not found on the wasm backend');
  return data.memoryOffset;
}
