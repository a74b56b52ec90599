/// <reference types="mocha" />
/**
 * "CNN Lens: Train New Classifier Head" and "CNN Lens: Fine-tune Model" inside a real extension
 * host, through their non-interactive path (an options object with `data`): the engine trains on
 * 5 classes × 20 sample images, the Training view draws every epoch, the new model is written and
 * opens in the CNN Lens editor; a folder with one class is refused with a clear error and nothing
 * is written. The expected parameter counts come from the base model's own summary.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SummaryJobResult } from '../../src/engine/jobs';
import type { TrainCommandResult } from '../../src/training';
import { SAMPLE_MODEL } from '../e2e/sampleModel';
import { NEW_CLASSES, copyClassFolders, transferBaseModel } from '../e2e/trainingData';
import { EXTENSION_ID, activate, capturingErrors, editorState, workspaceDir } from './views';

function train(command: 'cnnLens.trainHead' | 'cnnLens.fineTune', arg: unknown): Thenable<TrainCommandResult> {
  return vscode.commands.executeCommand<TrainCommandResult>(command, arg);
}

function assertEpochs(result: TrainCommandResult, count: number): void {
  assert.equal(result.epochs.length, count, `epochs run: ${JSON.stringify(result.epochs)}`);
  result.epochs.forEach((e, i) => {
    assert.equal(e.epoch, i + 1);
    for (const v of [e.loss, e.valLoss]) assert.ok(Number.isFinite(v) && v > 0, `epoch ${e.epoch}: loss ${v}`);
    for (const v of [e.acc, e.valAcc]) assert.ok(v >= 0 && v <= 1, `epoch ${e.epoch}: accuracy ${v}`);
    assert.ok(e.seconds > 0);
  });
}

describe('integration: transfer learning commands', function () {
  this.timeout(600_000);
  let ws: string;
  let data: string;

  before(async function () {
    await activate();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    ws = workspaceDir();
    data = copyClassFolders(ws, 'training-it/new-classes', NEW_CLASSES, 20);
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('contributes both commands, shown and enabled only in trusted workspaces', async function () {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string; title: string; category: string; enablement?: string }[]; menus: Record<string, { command: string; when?: string }[]> };
      capabilities: { untrustedWorkspaces: { supported: string } };
    };
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    const registered = await vscode.commands.getCommands(true);
    for (const id of ['cnnLens.trainHead', 'cnnLens.fineTune']) {
      const c = pkg.contributes.commands.find((x) => x.command === id);
      assert.ok(c && c.category === 'CNN Lens', `${id} contributed`);
      assert.equal(c.enablement, 'isWorkspaceTrusted');
      assert.ok(registered.includes(id), `${id} registered`);
      const menus = Object.entries(pkg.contributes.menus).flatMap(([menu, items]) => items.filter((i) => i.command === id).map((i) => ({ menu, when: i.when ?? '' })));
      assert.ok(menus.some((m) => m.menu === 'commandPalette'), `${id} in the palette`);
      assert.ok(menus.some((m) => m.menu === 'explorer/context'), `${id} in the Explorer context menu`);
      for (const m of menus) assert.match(m.when, /\bisWorkspaceTrusted\b/, `${id} in ${m.menu} requires trust`);
    }
  });

  it('trains a new head from options: the view draws every epoch, the model is saved and opens in the CNN Lens editor', async function () {
    const model = vscode.Uri.file(path.join(ws, transferBaseModel(ws)));
    const out = path.join(ws, 'training-it/head-out');
    const result = await train('cnnLens.trainHead', { model, data, out, epochs: 2, patience: 0, waitForRenderMs: 60_000 });
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.status, 'finished');
    assertEpochs(result, 2);

    // The plan: the five class folders, 15% of each class held out, the head on the last Dense layer's input.
    const plan = result.plan!;
    assert.deepEqual(plan.classNames, NEW_CLASSES);
    assert.equal(plan.trainImages + plan.validationImages, 100);
    assert.equal(plan.validationImages, 15);
    const base = (await vscode.commands.executeCommand<SummaryJobResult>('cnnLens.showSummary', model))!.summary;
    const dense = base.layers.filter((l) => l.className === 'Dense');
    const last = dense[dense.length - 1];
    assert.equal(plan.cutAt, last.inbound[0]);
    const features = base.layers.find((l) => l.name === plan.cutAt)!.outputShape[1] as number;
    assert.equal(plan.trainableParams, features * NEW_CLASSES.length + NEW_CLASSES.length, 'a Dense(5) on the cut layer’s features');
    assert.equal(plan.frozenParams, base.totals.params - last.params, 'everything below the dropped Dense layer is frozen');

    // Best epoch and the saved model: a TF.js model folder whose classifier has 5 outputs.
    const r = result.result!;
    assert.ok(r.best.epoch >= 1 && r.best.epoch <= 2);
    assert.equal(r.best.valAcc, r.epochs[r.best.epoch - 1].valAcc);
    assert.equal(result.savedModel, path.join(out, 'model.json'));
    assert.ok(existsSync(result.savedModel!), 'model.json written');
    const json = JSON.parse(readFileSync(result.savedModel!, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    for (const p of json.weightsManifest.flatMap((g) => g.paths)) assert.ok(existsSync(path.join(out, p)), `weight shard ${p} written`);

    // The view drew both epochs; the model opened in the CNN Lens editor.
    assert.equal(result.view?.renderedEpochs, 2, JSON.stringify(result.view));
    assert.equal(result.view?.status, 'finished');
    assert.equal(result.openedInEditor, true);
    const editor = await editorState(vscode.Uri.file(result.savedModel!));
    assert.equal(editor.status, 'ready', editor.error);
    const saved = (await vscode.commands.executeCommand<SummaryJobResult>('cnnLens.showSummary', vscode.Uri.file(result.savedModel!)))!.summary;
    assert.deepEqual(saved.layers[saved.layers.length - 1].outputShape, [null, NEW_CLASSES.length]);
  });

  it('fine-tunes the top layer of the 10-class sample on 5 of its classes and measures the accuracy before', async function () {
    const model = vscode.Uri.file(path.join(ws, SAMPLE_MODEL));
    if (!existsSync(model.fsPath)) this.skip();
    const out = path.join(ws, 'training-it/finetune-out');
    const result = await train('cnnLens.fineTune', { model, data, out, epochs: 1, unfreeze: 1, openResult: false, waitForRenderMs: 60_000 });
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.status, 'finished');
    assertEpochs(result, 1);
    const plan = result.plan!;
    assert.deepEqual(
      plan.layers.filter((l) => l.trainable).map((l) => l.name),
      ['predictions'],
      'only the top layer with weights is unfrozen',
    );
    assert.equal(plan.trainableParams, 128 * 10 + 10);
    assert.ok(result.result?.before && result.result.before.valAcc >= 0 && result.result.before.valAcc <= 1, 'accuracy before training measured');
    assert.ok(existsSync(path.join(out, 'model.json')));
    assert.equal(result.openedInEditor, false);
    assert.equal(result.view?.renderedEpochs, 1);
  });

  it('refuses a folder with a single class with a clear error and writes nothing', async function () {
    const model = vscode.Uri.file(path.join(ws, transferBaseModel(ws)));
    const oneClass = copyClassFolders(ws, 'training-it/one-class', [NEW_CLASSES[0]], 20);
    const out = path.join(ws, 'training-it/one-class-out');
    const { value: result, errors } = await capturingErrors(() => train('cnnLens.trainHead', { model, data: oneClass, out, epochs: 1 }));
    assert.equal(result.status, 'failed');
    assert.ok(result.error, 'an error is reported');
    assert.match(result.error!, /class/i);
    assert.ok(result.error!.includes('one-class'), `the message names the folder: ${result.error}`);
    assert.ok(errors.some((e) => e.includes(result.error!)), `shown to the user: ${JSON.stringify(errors)}`);
    assert.equal(existsSync(out), false, 'nothing written');
    assert.equal(result.view, undefined, 'no training view opened');
  });
});
