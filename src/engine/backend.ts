/**
 * Chooses and initialises the TensorFlow.js backend for the engine.
 *
 * Order for `auto`: tfjs-node ("tensorflow", native, only where the user has it installed),
 * then WebAssembly ("wasm", SIMD, single-threaded in Node), then the pure-JS "cpu" backend.
 * `tf.setBackend()` resolves to `false` instead of throwing when a backend fails to start, and
 * tfjs then silently stays on whatever backend it had (usually cpu, ~50x slower), so every
 * result is checked and the backend actually in use is reported back to the caller.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './kernels/registerWasmKernels';

import { BACKEND_PREFERENCES, isBackendPreference, type BackendName, type BackendPreference } from './backendNames';

export type { BackendName, BackendPreference };

export interface BackendInfo {
  name: BackendName;
  /** Human-readable warning when the engine runs on a slow or unexpected backend. */
  warning?: string;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;
let pendingPreference: BackendPreference | undefined;

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * When the engine is bundled (dist/), the .wasm binaries are copied next to the bundle and the
 * backend must be told where they are; when running from sources the package finds its own.
 */
function configureWasmPaths(): void {
  const candidates = [__dirname, path.join(__dirname, 'wasm')];
  for (const dir of candidates) {
    if (WASM_FILES.every((f) => fs.existsSync(path.join(dir, f)))) {
      setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
      return;
    }
  }
}

function tryLoadTfjsNode(): boolean {
  try {
    // Optional dependency: present only where the user installed it (it needs libtensorflow).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
    return tf.findBackendFactory('tensorflow') != null;
  } catch {
    return false;
  }
}

async function trySet(name: BackendName): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

async function select(preference: BackendPreference): Promise<BackendInfo> {
  const order: BackendName[] =
    preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  const failures: string[] = [];
  for (const name of order) {
    if (name === 'tensorflow' && !tryLoadTfjsNode()) {
      failures.push('tensorflow (package @tensorflow/tfjs-node is not installed)');
      continue;
    }
    if (name === 'wasm') configureWasmPaths();
    if (await trySet(name)) {
      if (name === 'wasm') registerWasmTrainingKernels();
      const info: BackendInfo = { name };
      if (name === 'cpu') {
        info.warning =
          'CNN Lens is running on the pure-JavaScript "cpu" backend, which is about 50x slower than "wasm"' +
          (failures.length ? ` (unavailable: ${failures.join('; ')})` : '') +
          '.';
      }
      return info;
    }
    failures.push(`${name} (failed to initialise)`);
  }
  throw new Error(`Could not start the TensorFlow.js backend "${preference}": ${failures.join('; ')}`);
}

/**
 * Initialise the backend once per process (or worker). Calling again with the same preference
 * returns the same result; a different preference switches backend.
 */
export function initBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (!isBackendPreference(preference)) {
    return Promise.reject(new Error(`Unknown backend "${preference}" (expected one of ${BACKEND_PREFERENCES.join(', ')})`));
  }
  if (pending && pendingPreference === preference) return pending;
  pendingPreference = preference;
  pending = select(preference).then(
    (info) => {
      current = info;
      return info;
    },
    (err) => {
      pending = undefined;
      pendingPreference = undefined;
      throw err;
    },
  );
  return pending;
}

export function currentBackend(): BackendInfo | undefined {
  return current;
}
