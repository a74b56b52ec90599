/**
 * The engine's analyses. Each takes an `InspectableModel` and returns plain data (typed arrays,
 * numbers, strings; no tensors) so results and accumulators can cross a worker boundary.
 */
export * from './summary';
export { layerFlops } from './flops';
export * from './activationPoints';
export * from './activations';
export * from './filters';
export * from './scan';
export * from './evaluate';
export * from './receptiveField';
export * from './effectiveReceptiveField';
