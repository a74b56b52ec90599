/**
 * `Cast` for the wasm backend that shares the data when the dtype does not change. ReLU's
 * gradient (`dy · cast(step(x), 'float32')`) casts a float32 tensor to float32, which the built-in
 * does as a full copy (0.3 ms for [64, 26, 26, 32]); see identity.ts for why sharing is safe.
 * Real conversions go to the built-in.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { shareData } from './identity';
import { WASM } from './wasmKernelUtils';

export function castWasmConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as unknown as { dtype: string };
    if (x.dtype !== dtype || dtype === 'string') return original(args);
    return shareData(args.backend, x);
  };
  return { kernelName: 'Cast', backendName: WASM, kernelFunc };
}
