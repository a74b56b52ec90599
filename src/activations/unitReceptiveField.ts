/**
 * The receptive-field overlay of the Activations view, host side (no `vscode` import): checks a
 * webview's unit selection against what the host itself shows (layer, channel count, map size,
 * dataset size), turns it into the engine's `effectiveReceptiveField` job arguments — the image
 * on show, or the first N dataset images — and converts the result for the wire (checked by the
 * compiler against the protocol type).
 */
import type { ActivationsJobResult, ErfArgs, ErfJobResult } from '../engine/jobs';
import { MAX_ERF_IMAGES, type WireEffectiveReceptiveField } from '../protocol';

export type ShownImage = { kind: 'file'; file: string } | { kind: 'dataset'; index: number };

export interface UnitSelection {
  layer: string;
  channel: number;
  unit: [number, number];
  /** 0: the image on show; N: the first N dataset images. */
  images: number;
}

/** The job arguments for a selection, or why it cannot be honoured. */
export function erfJobArgs(
  model: string,
  shown: ActivationsJobResult | undefined,
  image: ShownImage | undefined,
  selection: UnitSelection,
  datasetSize: number | undefined,
): { args: ErfArgs } | { error: string } {
  if (!shown || !image) return { error: 'No image is shown.' };
  const layer = shown.layers.find((l) => l.layer === selection.layer);
  if (!layer) return { error: `Layer "${selection.layer}" is not shown.` };
  if (layer.shape.length !== 3) return { error: `${layer.layer} has no spatial feature map (shape ${JSON.stringify(layer.shape)}); pick a convolutional layer.` };
  const [h, w, c] = layer.shape;
  const { channel, unit } = selection;
  if (channel >= c) return { error: `${layer.layer} has ${c} channels; there is no channel ${channel}.` };
  if (unit[0] >= h || unit[1] >= w) return { error: `${layer.layer} is ${h}×${w}; there is no unit (${unit[0]}, ${unit[1]}).` };
  const base = { model, layer: layer.layer, channel, unit: [unit[0], unit[1]] as [number, number] };
  if (selection.images > 0) {
    if (!datasetSize) return { error: 'This model has no dataset configured, so the ERF can only use the image on show.' };
    const limit = Math.min(selection.images, datasetSize, MAX_ERF_IMAGES);
    // No `start`: the engine spreads the images over the dataset (its folders are class by class).
    return { args: { ...base, limit } };
  }
  return { args: image.kind === 'file' ? { ...base, image: image.file } : { ...base, start: image.index, limit: 1 } };
}

export function toWireErf(r: ErfJobResult): WireEffectiveReceptiveField {
  return {
    layer: r.layer,
    channel: r.channel,
    unit: r.unit,
    outputSize: r.outputSize,
    inputSize: r.inputSize,
    images: r.images,
    heatmap: r.heatmap,
    centre: r.centre,
    radii: r.radii,
    theoretical: r.theoretical,
    note: r.note,
  };
}

/** What the Activations command reports about the overlay (tests read it). */
export interface ReceptiveFieldOverlaySummary {
  layer: string;
  channel: number;
  unit: [number, number];
  /** Images the engine averaged over. */
  images: number;
  /** Theoretical box [top, left, bottom, right] (input pixels, unclipped). */
  box?: [number, number, number, number];
  /** Theoretical size [h, w]. */
  size?: [number, number];
  /** Largest heat-map value (1 unless the unit never responds) and its size [h, w]. */
  heatmapMax: number;
  heatmapSize: [number, number];
  radii: { fraction: number; radius: number }[];
  note?: string;
  /** What the webview reported drawing, once it has. */
  drawn?: { box: boolean; heatmap: boolean };
}

export function overlaySummary(r: ErfJobResult): ReceptiveFieldOverlaySummary {
  let max = 0;
  for (const v of r.heatmap) if (v > max) max = v;
  return {
    layer: r.layer,
    channel: r.channel ?? -1,
    unit: r.unit,
    images: r.images,
    box: r.theoretical?.box,
    size: r.theoretical?.size,
    heatmapMax: max,
    heatmapSize: r.inputSize,
    radii: r.radii,
    note: r.note,
  };
}
