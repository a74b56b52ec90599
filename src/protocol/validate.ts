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
    case 'openFilters': {
      if (!onlyKeys(raw, ['layer'])) return undefined;
      const { ok, layer } = optionalLayer(raw);
      if (!ok) return undefined;
      return layer === undefined ? { type: raw.type } : { type: raw.type, layer };
    }
    case 'scanDeadFilters':
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

/** Panel ids the host hands out (`panelId` in state): 32 hex digits. */
export function isPanelId(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
}
