/**
 * The host-side validators of webview messages (src/protocol/validate.ts): every message a view
 * may send passes unchanged; anything else (unknown types, extra keys, wrong types, paths where
 * names are expected, oversized or control-character strings, non-integer indices) is dropped.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  MAX_NAME_LENGTH,
  asFloat32Array,
  isPanelId,
  validateActivationsMessage,
  validateFiltersMessage,
  validateModelEditorMessage,
} from '../../src/protocol';

const GARBAGE: unknown[] = [undefined, null, 0, 'ready', [], [{ type: 'ready' }], {}, { type: 7 }, { type: 'nope' }, { kind: 'ready' }];

test('common messages are accepted by every view', () => {
  for (const validate of [validateModelEditorMessage, validateActivationsMessage, validateFiltersMessage]) {
    assert.deepEqual(validate({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(validate({ type: 'cspViolation', directive: 'style-src', blockedUri: 'inline' }), {
      type: 'cspViolation',
      directive: 'style-src',
      blockedUri: 'inline',
    });
    assert.equal(validate({ type: 'ready', extra: 1 }), undefined, 'extra keys are rejected');
    assert.equal(validate({ type: 'cspViolation', directive: 3, blockedUri: '' }), undefined);
    assert.equal(validate({ type: 'cspViolation', directive: 'x'.repeat(5000), blockedUri: '' }), undefined);
    for (const g of GARBAGE) assert.equal(validate(g), undefined, `garbage ${JSON.stringify(g)}`);
  }
});

test('model editor: entry points with optional layer names', () => {
  assert.deepEqual(validateModelEditorMessage({ type: 'openActivations' }), { type: 'openActivations' });
  assert.deepEqual(validateModelEditorMessage({ type: 'openActivations', layer: 'conv2d_1' }), { type: 'openActivations', layer: 'conv2d_1' });
  assert.deepEqual(validateModelEditorMessage({ type: 'openFilters', layer: 'block1/conv' }), { type: 'openFilters', layer: 'block1/conv' });
  assert.deepEqual(validateModelEditorMessage({ type: 'scanDeadFilters' }), { type: 'scanDeadFilters' });
  assert.deepEqual(validateModelEditorMessage({ type: 'reload' }), { type: 'reload' });
  assert.equal(validateModelEditorMessage({ type: 'openActivations', layer: 3 }), undefined);
  assert.equal(validateModelEditorMessage({ type: 'openActivations', layer: '' }), undefined);
  assert.equal(validateModelEditorMessage({ type: 'openActivations', layer: 'x'.repeat(MAX_NAME_LENGTH + 1) }), undefined);
  assert.equal(validateModelEditorMessage({ type: 'openActivations', layer: 'a\nb' }), undefined);
  // No message takes a path: a `model`/`path`/`uri` field is an unknown key.
  assert.equal(validateModelEditorMessage({ type: 'openActivations', model: '/etc/passwd' }), undefined);
  assert.equal(validateModelEditorMessage({ type: 'scanDeadFilters', uri: 'file:///etc/passwd' }), undefined);
  // Other views' messages are not the editor's.
  assert.equal(validateModelEditorMessage({ type: 'selectLayer', layer: 'conv2d' }), undefined);
});

test('activations: layer, dataset index, image dialog, rendered', () => {
  assert.deepEqual(validateActivationsMessage({ type: 'selectLayer', layer: 'conv2d' }), { type: 'selectLayer', layer: 'conv2d' });
  assert.deepEqual(validateActivationsMessage({ type: 'selectDatasetImage', index: 0 }), { type: 'selectDatasetImage', index: 0 });
  assert.deepEqual(validateActivationsMessage({ type: 'selectDatasetImage', index: 999 }), { type: 'selectDatasetImage', index: 999 });
  assert.deepEqual(validateActivationsMessage({ type: 'pickImageFile' }), { type: 'pickImageFile' });
  assert.deepEqual(validateActivationsMessage({ type: 'rendered', layer: 'conv2d', canvases: 32 }), { type: 'rendered', layer: 'conv2d', canvases: 32 });

  assert.equal(validateActivationsMessage({ type: 'selectLayer' }), undefined);
  assert.equal(validateActivationsMessage({ type: 'selectLayer', layer: { name: 'conv2d' } }), undefined);
  for (const index of [-1, 1.5, NaN, Infinity, '3', 1e12, null]) {
    assert.equal(validateActivationsMessage({ type: 'selectDatasetImage', index }), undefined, `index ${index}`);
  }
  // The image file is chosen by the host's dialog: a path in the message is rejected.
  assert.equal(validateActivationsMessage({ type: 'pickImageFile', path: '/tmp/x.png' }), undefined);
  assert.equal(validateActivationsMessage({ type: 'selectImage', path: '/tmp/x.png' }), undefined);
  assert.equal(validateActivationsMessage({ type: 'rendered', layer: 'conv2d', canvases: -2 }), undefined);
  assert.equal(validateActivationsMessage({ type: 'openFilters' }), undefined);
});

test('filters: open activations of a named layer only', () => {
  assert.deepEqual(validateFiltersMessage({ type: 'openActivations', layer: 'conv2d' }), { type: 'openActivations', layer: 'conv2d' });
  assert.equal(validateFiltersMessage({ type: 'openActivations' }), undefined);
  assert.equal(validateFiltersMessage({ type: 'openActivations', layer: 'conv2d', model: 'x' }), undefined);
  assert.equal(validateFiltersMessage({ type: 'selectDatasetImage', index: 1 }), undefined);
});

test('validated messages are fresh objects (no prototype tricks pass through)', () => {
  const raw = JSON.parse('{"type":"selectLayer","layer":"conv2d","__proto__":{"polluted":true}}');
  const msg = validateActivationsMessage(raw) as Record<string, unknown> | undefined;
  // `__proto__` from JSON.parse is an own key: rejected as an unknown key.
  assert.equal(msg, undefined);
  const ok = validateActivationsMessage({ type: 'selectLayer', layer: 'conv2d' }) as Record<string, unknown>;
  assert.deepEqual(Object.keys(ok).sort(), ['layer', 'type']);
});

test('panel ids are 32 hex digits', () => {
  assert.equal(isPanelId('0123456789abcdef0123456789abcdef'), true);
  assert.equal(isPanelId('../../etc/passwd'), false);
  assert.equal(isPanelId('0123456789ABCDEF0123456789ABCDEF'), false);
  assert.equal(isPanelId(42), false);
});

test('asFloat32Array normalises what a serializer may deliver', () => {
  const f = new Float32Array([1, 2.5, -3]);
  assert.equal(asFloat32Array(f), f);
  assert.deepEqual([...asFloat32Array(new Float64Array([1, 2]))], [1, 2], 'other typed arrays are converted by value');
  assert.deepEqual([...asFloat32Array([1, 2.5])], [1, 2.5]);
  assert.deepEqual([...asFloat32Array({ 0: 1, 1: 2 })], [1, 2]);
  assert.deepEqual([...asFloat32Array(f.buffer)], [1, 2.5, -3]);
  assert.equal(asFloat32Array(null).length, 0);
});
