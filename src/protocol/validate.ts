/**
 * Host-side validation of every message a webview sends. A webview is treated as untrusted
 * input: a message is accepted only when its `type` is one the view may send and each field has
 * the expected type and a sane size; anything else is dropped (the validator returns undefined).
 * No message carries a path the host would open: webviews name layers and dataset indices that
 * the host sent them, and the host checks those against its own state before using them.
 */
import type { CommonWebviewMessage } from './common';
import type { ModelEditorWebviewMessage } from './modelEditor';
import type { ActivationsWebviewMessage } from './activations';
import type { FiltersWebviewMessage } from './filters';
import type { TrainingWebviewMessage } from './training';
import { EMBED_METHODS, EMBEDDING_LIMITS, type EmbeddingSettings, type EmbeddingWebviewMessage, type PaneIndex } from './embedding';
import { MAX_ERF_IMAGES } from './activations';

/** Longest layer name accepted (Keras names are short; this only bounds garbage). */
export const MAX_NAME_LENGTH = 512;
/** Largest dataset index accepted before the host's own bounds check. */
export const MAX_INDEX = 1e9;

type Rec = Record<string, unknown>;

function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Only these keys (besides `type`) may be present. */
function onlyKeys(msg: Rec, allowed: readonly string[]): boolean {
  return Object.keys(msg).every((k) => k === 'type' || allowed.includes(k));
}

export function isLayerName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_LENGTH && !/[\u0000-\u001f]/.test(v);
}

export function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_INDEX;
}

function shortString(v: unknown, max = 2048): v is string {
  return typeof v === 'string' && v.length <= max;
}

function validateCommon(msg: Rec): CommonWebviewMessage | undefined {
  switch (msg.type) {
    case 'ready':
      return onlyKeys(msg, []) ? { type: 'ready' } : undefined;
    case 'cspViolation':
      return onlyKeys(msg, ['directive', 'blockedUri']) && shortString(msg.directive) && shortString(msg.blockedUri)
        ? { type: 'cspViolation', directive: msg.directive, blockedUri: msg.blockedUri }
        : undefined;
    default:
      return undefined;
  }
}

/** An optional layer name: absent, or a valid name. */
function optionalLayer(msg: Rec): { ok: boolean; layer?: string } {
  if (msg.layer === undefined) return { ok: true };
  return isLayerName(msg.layer) ? { ok: true, layer: msg.layer } : { ok: false };
}

export function validateModelEditorMessage(raw: unknown): ModelEditorWebviewMessage | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'openActivations':
    case 'openFilters':
    case 'openEmbedding': {
      if (!onlyKeys(raw, ['layer'])) return undefined;
      const { ok, layer } = optionalLayer(raw);
      if (!ok) return undefined;
      return layer === undefined ? { type: raw.type } : { type: raw.type, layer };
    }
    case 'scanDeadFilters':
    case 'computeEffectiveRf':
    case 'reload':
      return onlyKeys(raw, []) ? { type: raw.type } : undefined;
    default:
      return validateCommon(raw);
  }
}

export function validateActivationsMessage(raw: unknown): ActivationsWebviewMessage | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'selectLayer':
      return onlyKeys(raw, ['layer']) && isLayerName(raw.layer) ? { type: 'selectLayer', layer: raw.layer } : undefined;
    case 'selectDatasetImage':
      return onlyKeys(raw, ['index']) && isIndex(raw.index) ? { type: 'selectDatasetImage', index: raw.index } : undefined;
    case 'pickImageFile':
      return onlyKeys(raw, []) ? { type: 'pickImageFile' } : undefined;
    case 'rendered':
      return onlyKeys(raw, ['layer', 'canvases']) && isLayerName(raw.layer) && isIndex(raw.canvases)
        ? { type: 'rendered', layer: raw.layer, canvases: raw.canvases }
        : undefined;
    case 'selectUnit':
      return onlyKeys(raw, ['layer', 'channel', 'unit', 'images']) &&
        isLayerName(raw.layer) &&
        isIndex(raw.channel) &&
        isUnit(raw.unit) &&
        isIndex(raw.images) &&
        raw.images <= MAX_ERF_IMAGES
        ? { type: 'selectUnit', layer: raw.layer, channel: raw.channel, unit: [raw.unit[0], raw.unit[1]], images: raw.images }
        : undefined;
    case 'overlayRendered':
      return onlyKeys(raw, ['layer', 'channel', 'unit', 'box', 'heatmap']) &&
        isLayerName(raw.layer) &&
        isIndex(raw.channel) &&
        isUnit(raw.unit) &&
        typeof raw.box === 'boolean' &&
        typeof raw.heatmap === 'boolean'
        ? { type: 'overlayRendered', layer: raw.layer, channel: raw.channel, unit: [raw.unit[0], raw.unit[1]], box: raw.box, heatmap: raw.heatmap }
        : undefined;
    default:
      return validateCommon(raw);
  }
}

/** A feature-map position `[y, x]`: two indices (the host checks them against the map's size). */
function isUnit(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && isIndex(v[0]) && isIndex(v[1]);
}

function isPane(v: unknown): v is PaneIndex {
  return v === 0 || v === 1;
}

function inRange(v: unknown, [lo, hi]: readonly [number, number], integer: boolean): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi && (!integer || Number.isInteger(v));
}

/** Embedding settings: every field present, of the right type and within `EMBEDDING_LIMITS`. */
export function validateEmbeddingSettings(raw: unknown): EmbeddingSettings | undefined {
  if (!isRecord(raw)) return undefined;
  const keys = ['method', 'limit', 'perplexity', 'iterations', 'neighbors', 'minDist'];
  if (!Object.keys(raw).every((k) => keys.includes(k))) return undefined;
  const L = EMBEDDING_LIMITS;
  if (!EMBED_METHODS.includes(raw.method as EmbeddingSettings['method'])) return undefined;
  if (!inRange(raw.limit, L.limit, true) || !inRange(raw.perplexity, L.perplexity, false) || !inRange(raw.iterations, L.iterations, true)) return undefined;
  if (!inRange(raw.neighbors, L.neighbors, true) || !inRange(raw.minDist, L.minDist, false)) return undefined;
  return {
    method: raw.method as EmbeddingSettings['method'],
    limit: raw.limit,
    perplexity: raw.perplexity,
    iterations: raw.iterations,
    neighbors: raw.neighbors,
    minDist: raw.minDist,
  };
}

export function validateEmbeddingMessage(raw: unknown): EmbeddingWebviewMessage | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'run': {
      if (!onlyKeys(raw, ['settings', 'layers'])) return undefined;
      const settings = validateEmbeddingSettings(raw.settings);
      const layers = raw.layers;
      if (!settings || !Array.isArray(layers) || layers.length < 1 || layers.length > 2) return undefined;
      if (!layers.every((l) => l === null || isLayerName(l))) return undefined;
      return { type: 'run', settings, layers: layers.map((l: string | null) => l) };
    }
    case 'cancel':
    case 'compare':
    case 'closeCompare':
      return onlyKeys(raw, []) ? { type: raw.type } : undefined;
    case 'hoverPoint':
      return onlyKeys(raw, ['pane', 'index', 'requestId']) && isPane(raw.pane) && isIndex(raw.index) && isIndex(raw.requestId)
        ? { type: 'hoverPoint', pane: raw.pane, index: raw.index, requestId: raw.requestId }
        : undefined;
    case 'openPoint':
      return onlyKeys(raw, ['pane', 'index']) && isPane(raw.pane) && isIndex(raw.index) ? { type: 'openPoint', pane: raw.pane, index: raw.index } : undefined;
    case 'rendered':
      return onlyKeys(raw, ['pane', 'points', 'final']) && isPane(raw.pane) && isIndex(raw.points) && typeof raw.final === 'boolean'
        ? { type: 'rendered', pane: raw.pane, points: raw.points, final: raw.final }
        : undefined;
    default:
      return validateCommon(raw);
  }
}

export function validateFiltersMessage(raw: unknown): FiltersWebviewMessage | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'openActivations':
      return onlyKeys(raw, ['layer']) && isLayerName(raw.layer) ? { type: 'openActivations', layer: raw.layer } : undefined;
    default:
      return validateCommon(raw);
  }
}

export function validateTrainingMessage(raw: unknown): TrainingWebviewMessage | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'cancel':
    case 'openModel':
    case 'compareEmbeddings':
      return onlyKeys(raw, []) ? { type: raw.type } : undefined;
    case 'rendered':
      return onlyKeys(raw, ['epochs']) && isIndex(raw.epochs) ? { type: 'rendered', epochs: raw.epochs } : undefined;
    default:
      return validateCommon(raw);
  }
}

/** Panel ids the host hands out (`panelId` in state): 32 hex digits. */
export function isPanelId(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
}
