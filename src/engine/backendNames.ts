/**
 * Backend names without importing TF.js, so the extension host and the CLI's argument parsing can
 * validate a preference without loading the engine.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export function isBackendPreference(value: unknown): value is BackendPreference {
  return typeof value === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(value);
}
