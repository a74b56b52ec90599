/**
 * The host ⇄ webview protocol of every CNN Lens view: message unions per view, the wire types
 * they carry, and the host-side validators. Imported by `src/` (host) and `webview/` (browser).
 */
export * from './common';
export * from './modelEditor';
export * from './activations';
export * from './filters';
export * from './training';
export * from './embedding';
export * from './validate';
export { filterNoiseVerdict, type FilterNoiseFacts, type FilterNoiseVerdict } from '../engine/report/filterNoiseText';
