/// <reference types="mocha" />
/**
 * The "CNN Lens" model editor inside a real extension host: `vscode.openWith` opens it on the
 * sample model.json, a Keras .h5 and a generated 400-layer model; a corrupt model.json shows an
 * error in the editor (not a crash). The editor's state comes from the internal command
 * `cnnLens._modelEditorState`.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { repoRoot } from '../e2e/paths';
import { CORRUPT_MODEL_TEXT, layerNamesOf } from '../e2e/sampleModel';
import { writeDeepModel } from '../e2e/deepModel';
import { activate, editorState, sampleModel, workspaceDir } from './views';

describe('integration: model editor', function () {
  this.timeout(180_000);

  before(async function () {
    await activate();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  afterEach(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('contributes the custom editors (option for model.json, default for Keras files)', function () {
    const pkg = vscode.extensions.getExtension('cnn-lens.cnn-lens')!.packageJSON as {
      contributes: { customEditors: { viewType: string; priority: string; selector: { filenamePattern: string }[] }[] };
    };
    const byType = new Map(pkg.contributes.customEditors.map((e) => [e.viewType, e]));
    assert.equal(byType.get('cnnLens.modelEditor')?.priority, 'option');
    assert.deepEqual(byType.get('cnnLens.modelEditor')?.selector, [{ filenamePattern: '**/model.json' }]);
    assert.equal(byType.get('cnnLens.modelEditor.binary')?.priority, 'default');
  });

  it('opens the sample model.json with vscode.openWith and lists every layer', async function () {
    const model = sampleModel();
    await vscode.commands.executeCommand('vscode.openWith', model, 'cnnLens.modelEditor');
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputCustom, 'a custom editor tab is active');
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'cnnLens.modelEditor');
    const state = await editorState(model);
    assert.equal(state.status, 'ready', state.error);
    const expected = layerNamesOf(model.fsPath).length;
    assert.ok(state.layers >= expected && state.layers <= expected + 1, `${state.layers} layers for ${expected} in model.json`);
    assert.ok(['tensorflow', 'wasm', 'cpu'].includes(state.backend ?? ''), `backend ${state.backend}`);
  });

  it('opens a Keras .h5 model with the binary-file editor', async function () {
    const model = vscode.Uri.file(path.join(repoRoot, 'test/fixtures/models/keras2_sequential.h5'));
    await vscode.commands.executeCommand('vscode.openWith', model, 'cnnLens.modelEditor.binary');
    const state = await editorState(model);
    assert.equal(state.status, 'ready', state.error);
    assert.ok(state.layers > 0);
  });

  it('handles a generated 400-layer model', async function () {
    const file = writeDeepModel(path.join(workspaceDir(), 'deep-model'), 400);
    const model = vscode.Uri.file(file);
    await vscode.commands.executeCommand('vscode.openWith', model, 'cnnLens.modelEditor');
    const state = await editorState(model);
    assert.equal(state.status, 'ready', state.error);
    assert.ok(state.layers >= 400, `${state.layers} layers`);
  });

  it('shows a corrupt model.json as an error in the editor, and keeps working', async function () {
    const file = path.join(workspaceDir(), 'corrupt-editor/model.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, CORRUPT_MODEL_TEXT);
    const corrupt = vscode.Uri.file(file);
    await vscode.commands.executeCommand('vscode.openWith', corrupt, 'cnnLens.modelEditor');
    const state = await editorState(corrupt);
    assert.equal(state.status, 'error');
    assert.ok(state.error?.includes(file), `the error names the file: ${state.error}`);
    assert.match(state.error ?? '', /not valid JSON/);

    const model = sampleModel();
    await vscode.commands.executeCommand('vscode.openWith', model, 'cnnLens.modelEditor');
    assert.equal((await editorState(model)).status, 'ready');
  });
});
