/**
 * The VS Code side of transfer learning without VS Code: the flow's choices become options the
 * engine accepts unchanged (checked with the engine's own `mergeTrainingOptions`), defaults are
 * the engine's, remembered values are filtered, the default output folder is new, the input boxes
 * parse what users type, and the Training view's webview messages are validated.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { mergeTrainingOptions, TRAINING_DEFAULTS } from '../../src/engine/training/options';
import {
  builtInChoices,
  defaultOutputFolder,
  initialChoices,
  outputFolderProblem,
  parseLearningRate,
  parseSplit,
  rememberChoices,
  sanitizeChoices,
  toTrainingOptions,
} from '../../src/training/trainingChoices';
import { validateTrainingMessage } from '../../src/protocol';

/** A Memento in memory (workspaceState's interface). */
function memento(): vscode.Memento {
  const data = new Map<string, unknown>();
  return {
    keys: () => [...data.keys()],
    get: <T>(key: string, fallback?: T) => (data.has(key) ? (data.get(key) as T) : fallback),
    update: async (key: string, value: unknown) => void data.set(key, value),
  } as vscode.Memento;
}

test('the built-in choices are the engine defaults, and the options they make merge to the same values', () => {
  for (const mode of ['head', 'fine-tune'] as const) {
    const c = { ...builtInChoices(mode), data: '/data/classes' };
    const merged = mergeTrainingOptions(mode, toTrainingOptions(mode, c, '/out/new'), undefined);
    const defaults = mergeTrainingOptions(mode, { data: '/data/classes', out: '/out/new' }, undefined);
    assert.deepEqual(merged, defaults, `${mode}: explicit defaults = left-out options`);
    assert.equal(merged.epochs, TRAINING_DEFAULTS[mode].epochs);
    assert.equal(merged.validationSplit, 0.15);
  }
});

test('choices map to options of their mode only (the engine rejects the others)', () => {
  const head = toTrainingOptions('head', { ...builtInChoices('head'), data: '/d', cutAt: 'fc1', hidden: 64, augment: true, unfreeze: 3 }, '/o');
  const H = TRAINING_DEFAULTS.head;
  assert.deepEqual(head, { data: '/d', out: '/o', epochs: H.epochs, batchSize: H.batchSize, learningRate: H.learningRate, validationSplit: 0.15, cutAt: 'fc1', hidden: 64 });
  assert.doesNotThrow(() => mergeTrainingOptions('head', head, undefined));

  const ft = toTrainingOptions('fine-tune', { ...builtInChoices('fine-tune'), data: '/d', fromLayer: 'conv2', unfreeze: 2, augment: true, cutAt: 'x' }, '/o');
  const F = TRAINING_DEFAULTS['fine-tune'];
  assert.deepEqual(ft, { data: '/d', out: '/o', epochs: F.epochs, batchSize: F.batchSize, learningRate: F.learningRate, validationSplit: 0.15, fromLayer: 'conv2', augment: true });
  const merged = mergeTrainingOptions('fine-tune', ft, undefined);
  assert.equal(merged.fromLayer, 'conv2');
  assert.equal(merged.unfreeze, null);
  assert.deepEqual(merged.augment, { flip: true, shift: TRAINING_DEFAULTS.shift });

  assert.throws(() => toTrainingOptions('head', builtInChoices('head'), '/o'), /No labelled image folder/);
});

test('remembered choices override cnnlens.json, layer choices are kept per model, junk is dropped', async () => {
  const m = memento();
  const configured = sanitizeChoices({ epochs: 7, learningRate: 0.005, data: '/cfg/data', bogus: 1 });
  assert.deepEqual(configured, { epochs: 7, learningRate: 0.005, data: '/cfg/data' });
  let c = initialChoices('head', '/models/a/model.json', configured, m);
  assert.equal(c.epochs, 7);
  assert.equal(c.batchSize, TRAINING_DEFAULTS.head.batchSize);

  await rememberChoices(m, 'head', '/models/a/model.json', { ...c, epochs: 3, cutAt: 'pool2', data: '/picked' });
  c = initialChoices('head', '/models/a/model.json', configured, m);
  assert.equal(c.epochs, 3);
  assert.equal(c.cutAt, 'pool2');
  assert.equal(c.data, '/picked');
  const other = initialChoices('head', '/models/b/model.json', configured, m);
  assert.equal(other.cutAt, undefined, 'a layer name of model a is not offered for model b');
  assert.equal(other.epochs, 3);
  assert.equal(initialChoices('fine-tune', '/models/a/model.json', configured, m).epochs, 7, 'modes are remembered apart');

  await m.update('cnnLens.training.choices', { common: { head: { epochs: -4, batchSize: 'x', learningRate: 50 } } });
  assert.equal(initialChoices('head', '/models/a/model.json', {}, m).epochs, TRAINING_DEFAULTS.head.epochs, 'invalid remembered values are ignored');
});

test('the default output folder is a new sibling of the model folder', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cnnlens-out-'));
  try {
    mkdirSync(path.join(root, 'cnn'));
    const model = path.join(root, 'cnn', 'model.json');
    writeFileSync(model, '{}');
    assert.equal(defaultOutputFolder(model, 'head'), path.join(root, 'cnn-head'));
    mkdirSync(path.join(root, 'cnn-head'));
    mkdirSync(path.join(root, 'cnn-head-2'));
    assert.equal(defaultOutputFolder(model, 'head'), path.join(root, 'cnn-head-3'));
    assert.equal(defaultOutputFolder(model, 'fine-tune'), path.join(root, 'cnn-finetuned'));
    assert.equal(defaultOutputFolder(path.join(root, 'cnn', 'net.h5'), 'head'), path.join(root, 'cnn', 'net-head'));
    assert.match(outputFolderProblem(path.join(root, 'cnn-head')) ?? '', /already exists/);
    assert.equal(outputFolderProblem(path.join(root, 'cnn-head-3')), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('input boxes: learning rate and validation split', () => {
  assert.equal(parseLearningRate('0.001'), 0.001);
  assert.equal(parseLearningRate(' 1e-4 '), 1e-4);
  for (const bad of ['', '0', '-1', 'abc', '12']) assert.equal(parseLearningRate(bad), undefined, bad);
  assert.equal(parseSplit('15%'), 0.15);
  assert.equal(parseSplit('15'), 0.15);
  assert.equal(parseSplit('0.2'), 0.2);
  for (const bad of ['', '0', '0.5%', '60%', 'x', '-10']) assert.equal(parseSplit(bad), undefined, bad);
});

test('Training view messages: the allowed ones pass, anything else is dropped', () => {
  for (const type of ['cancel', 'openModel', 'compareEmbeddings', 'ready'] as const) assert.deepEqual(validateTrainingMessage({ type }), { type });
  assert.deepEqual(validateTrainingMessage({ type: 'rendered', epochs: 3 }), { type: 'rendered', epochs: 3 });
  for (const bad of [
    { type: 'cancel', force: true },
    { type: 'openModel', path: '/etc/passwd' },
    { type: 'rendered', epochs: -1 },
    { type: 'rendered', epochs: 1.5 },
    { type: 'rendered' },
    { type: 'train' },
    null,
    'cancel',
  ]) {
    assert.equal(validateTrainingMessage(bad), undefined, JSON.stringify(bad));
  }
});
