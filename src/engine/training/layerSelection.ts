/**
 * Which layers a transfer-learning run keeps, freezes and trains, decided from the model's layer
 * graph alone (no TF.js), so a plan can be shown before anything is built:
 *
 *  - head: the cut layer (the last layer kept; default the input of the last Dense layer) and
 *    the base = the cut layer and everything it depends on;
 *  - fine-tune: the top N layers that have weights, or every layer from a named one on.
 *    BatchNormalization layers are never unfrozen (Keras' transfer-learning guide: they stay in
 *    inference mode, and training their scale/offset on a small dataset only adds noise).
 */
import type { InspectableModel, LayerNode } from '../model/inspectableModel';
import { findLayer } from '../model/inspectableModel';

export function paramCount(node: LayerNode): number {
  let n = 0;
  for (const w of node.weights) n += w.shape.reduce((a, d) => a * Math.max(0, d), 1);
  return n;
}

const shapeText = (shape: (number | null)[]): string => `[${shape.map((d) => (d == null ? 'null' : d)).join(', ')}]`;

function names(list: string[]): string {
  return list.length > 8 ? `${list.slice(0, 8).join(', ')}, ...` : list.join(', ');
}

export interface CutChoice {
  cutAt: string;
  /** The cut layer and every layer it depends on (input layers included). */
  base: Set<string>;
  /** Output shape of the cut layer without the batch dimension. */
  featureShape: number[];
}

/** The default cut: the input of the last Dense layer (i.e. drop the classifier). */
export function defaultCut(model: InspectableModel): string {
  const dense = [...model.layers].reverse().find((l) => l.className === 'Dense');
  if (!dense) throw new Error(`${model.path}: has no Dense layer whose input could feed a new head; name the layer to cut at (cutAt / --cut-at)`);
  if (dense.inbound.length !== 1) throw new Error(`${model.path}: the last Dense layer "${dense.name}" has ${dense.inbound.length} inputs; name the layer to cut at (cutAt / --cut-at)`);
  return dense.inbound[0];
}

export function resolveCut(model: InspectableModel, requested: string | null): CutChoice {
  const cutAt = requested ?? defaultCut(model);
  const node = findLayer(model, cutAt);
  if (cutAt === model.outputLayer) {
    throw new Error(
      `${model.path}: nothing remains after layer "${cutAt}" to replace (it is the model's output); cut at an earlier layer` +
        (requested ? ` (default: "${safeDefault(model)}")` : ''),
    );
  }
  if (node.className === 'InputLayer') throw new Error(`${model.path}: cutting at the input layer "${cutAt}" leaves no base to transfer; cut at a later layer`);
  const shape = node.outputShape.slice(1);
  if (shape.length === 0 || shape.some((d) => d == null || d <= 0)) {
    throw new Error(`${model.path}: layer "${cutAt}" has output shape ${shapeText(node.outputShape)} with unknown dimensions; cut at a layer with a fixed output shape`);
  }
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const base = new Set<string>();
  const stack = [cutAt];
  while (stack.length) {
    const name = stack.pop()!;
    if (base.has(name)) continue;
    base.add(name);
    for (const src of byName.get(name)?.inbound ?? []) stack.push(src);
  }
  return { cutAt, base, featureShape: shape as number[] };
}

function safeDefault(model: InspectableModel): string {
  try {
    return defaultCut(model);
  } catch {
    return 'a layer before the output';
  }
}

/** Layers fine-tuning may unfreeze: they have weights and are not BatchNormalization. */
export function unfreezableLayers(model: InspectableModel): LayerNode[] {
  return model.layers.filter((l) => l.weights.length > 0 && l.className !== 'BatchNormalization');
}

export interface UnfreezeChoice {
  /** Layer names trained, in model order. */
  trainable: string[];
  fromLayer: string;
  unfreeze: number;
}

export function resolveUnfrozen(model: InspectableModel, unfreeze: number | null, fromLayer: string | null): UnfreezeChoice {
  const candidates = unfreezableLayers(model);
  if (candidates.length === 0) throw new Error(`${model.path}: has no layer with trainable weights to fine-tune`);
  if (fromLayer) {
    findLayer(model, fromLayer);
    const start = model.layers.findIndex((l) => l.name === fromLayer);
    const trainable = candidates.filter((l) => model.layers.indexOf(l) >= start).map((l) => l.name);
    if (trainable.length === 0) throw new Error(`${model.path}: no layer with trainable weights from "${fromLayer}" on (BatchNormalization layers stay frozen)`);
    return { trainable, fromLayer, unfreeze: trainable.length };
  }
  const n = unfreeze ?? 1;
  if (n > candidates.length) {
    throw new Error(
      `${model.path}: cannot unfreeze ${n} layers: the model has ${candidates.length} layer${candidates.length === 1 ? '' : 's'} with trainable weights (${names(candidates.map((l) => l.name))})`,
    );
  }
  const trainable = candidates.slice(candidates.length - n).map((l) => l.name);
  return { trainable, fromLayer: trainable[0], unfreeze: n };
}

/** Fine-tuning keeps the classifier, so the model must be one: softmax over `units` classes. */
export function classifierOutput(model: InspectableModel): { layer: string; units: number } {
  const out = findLayer(model, model.outputLayer);
  const units = out.outputShape[out.outputShape.length - 1];
  const ok = out.activation === 'softmax' && out.outputShape.length === 2 && typeof units === 'number' && units >= 2;
  if (!ok) {
    throw new Error(
      `${model.path}: the output layer "${out.name}" (${out.className}, activation ${out.activation ?? 'none'}, shape ${shapeText(out.outputShape)}) ` +
        'is not a softmax classifier; fine-tuning needs one (to put a new classifier on this model, train a new head instead)',
    );
  }
  return { layer: out.name, units: units as number };
}
