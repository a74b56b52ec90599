/**
 * Model summary: every layer with its shapes, parameter counts, activation and FLOPs (for one
 * image; convention in `flops.ts`), plus totals. Pure metadata: never runs the model.
 */
import type { InputGeometry, InspectableModel, ModelFormat } from '../model/inspectableModel';
import { product } from './common';
import { layerFlops } from './flops';
import { nodeActivation } from './activationPoints';

export interface LayerSummary {
  name: string;
  className: string;
  inbound: string[];
  /** Input shapes, one per inbound tensor, batch dimension `null`. */
  inputShapes: (number | null)[][];
  outputShape: (number | null)[];
  trainableParams: number;
  nonTrainableParams: number;
  params: number;
  /** Activation applied by the layer (`relu`, `linear`, ...), when it has one. */
  activation?: string;
  /** FLOPs for one image, multiply-add = 2; `null` when the layer type or its shapes are unknown. */
  flops: number | null;
}

export interface ModelSummary {
  name: string;
  path: string;
  format: ModelFormat;
  input: InputGeometry;
  outputLayer: string;
  layers: LayerSummary[];
  totals: {
    params: number;
    trainableParams: number;
    nonTrainableParams: number;
    /** Sum of the counted layers' FLOPs for one image. */
    flops: number;
    /** Layers whose FLOPs could not be counted (so `flops` is a lower bound when non-empty). */
    uncountedLayers: string[];
  };
  /** Short statement of the FLOPs convention, for display next to the numbers. */
  flopsConvention: string;
}

export const FLOPS_CONVENTION =
  'FLOPs per image, multiply-add = 2, bias add = 1 per output, pooling = window size per output, ' +
  'BatchNorm = 2 per element, activations = 0 (tf.profiler convention, as in TF-Slim / receptive_field tables)';

/** Summary up to and including `upTo` (default: all layers). */
export function summarize(model: InspectableModel, options: { upTo?: string } = {}): ModelSummary {
  const graph = model.format === 'tfjs-graph';
  const layers: LayerSummary[] = [];
  const uncounted: string[] = [];
  let trainable = 0;
  let nonTrainable = 0;
  let flops = 0;
  if (options.upTo && !model.layers.some((l) => l.name === options.upTo)) {
    throw new Error(`${model.path}: no layer named "${options.upTo}"`);
  }
  for (const node of model.layers) {
    let t = 0;
    let nt = 0;
    for (const w of node.weights) {
      const n = product(w.shape);
      if (w.trainable) t += n;
      else nt += n;
    }
    const f = layerFlops(node, graph);
    if (f == null) uncounted.push(node.name);
    else flops += f;
    trainable += t;
    nonTrainable += nt;
    const activation = nodeActivation(node);
    layers.push({
      name: node.name,
      className: node.className,
      inbound: [...node.inbound],
      inputShapes: node.inputShapes.map((s) => [...s]),
      outputShape: [...node.outputShape],
      trainableParams: t,
      nonTrainableParams: nt,
      params: t + nt,
      ...(activation ? { activation } : {}),
      flops: f ?? null,
    });
    if (node.name === options.upTo) break;
  }
  return {
    name: model.name,
    path: model.path,
    format: model.format,
    input: { ...model.input },
    outputLayer: model.outputLayer,
    layers,
    totals: {
      params: trainable + nonTrainable,
      trainableParams: trainable,
      nonTrainableParams: nonTrainable,
      flops,
      uncountedLayers: uncounted,
    },
    flopsConvention: FLOPS_CONVENTION,
  };
}
