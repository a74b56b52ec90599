/**
 * `Identity` for the wasm backend without a copy. The built-in copies the tensor's data into a
 * new buffer, and the engine calls Identity (`clone`) on every tensor it saves for the backward
 * pass, so a training step on wasm copied each activation it kept: 3 × [64, 26, 26, 32] and more
 * per step of the sample CNN (~1.4 ms). TF.js tensors are immutable and no wasm kernel writes
 * into its inputs, so sharing the buffer is safe: this is what the cpu and webgl backends and
 * the wasm backend's own `Reshape` do (the backend's reference count keeps the buffer alive until
 * both tensors are disposed). Strings keep the built-in path.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { WASM } from './wasmKernelUtils';

interface RefCountingBackend {
  incRef(dataId: unknown): void;
}

/** The output of a zero-copy identity: `x`'s data, one more reference to it. */
export function shareData(backend: unknown, x: TensorInfo): TensorInfo {
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export function identityWasmConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return original(args);
    return shareData(args.backend, x);
  };
  return { kernelName: 'Identity', backendName: WASM, kernelFunc };
}
