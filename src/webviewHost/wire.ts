/**
 * Engine results → the protocol's wire types. The assignments below are checked by the compiler,
 * so a change of an engine result type that breaks the protocol fails the build here.
 */
import * as vscode from 'vscode';
import type { ModelSummary } from '../engine/analyses/summary';
import type { LayerActivations } from '../engine/analyses/activations';
import type { FilterTiles } from '../engine/analyses/filters';
import type { DatasetInfo } from '../engine/jobs';
import type { WireDatasetInfo, WireFilterTiles, WireLayerActivations, WireModelSummary } from '../protocol';

export function toWireSummary(summary: ModelSummary): WireModelSummary {
  const wire: WireModelSummary = summary;
  return wire;
}

/** One image's feature maps of a layer (`image` indexes the result's images). */
export function toWireActivations(layer: LayerActivations, image = 0): WireLayerActivations {
  return {
    layer: layer.layer,
    className: layer.className,
    shape: layer.shape,
    channels: layer.channels,
    activation: layer.activation,
    deadApplicable: layer.deadApplicable,
    reason: layer.reason,
    values: layer.values[image] ?? new Float32Array(0),
    stats: layer.stats,
  };
}

export function toWireFilters(tiles: FilterTiles): WireFilterTiles {
  const wire: WireFilterTiles = tiles;
  return wire;
}

export function toWireDataset(info: DatasetInfo): WireDatasetInfo {
  return {
    label: vscode.workspace.asRelativePath(info.path, true),
    kind: info.kind,
    size: info.size,
    classNames: info.classNames,
    skipped: info.skipped.length,
  };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
