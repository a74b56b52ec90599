/// <reference types="mocha" />
/**
 * Integration tests of "CNN Lens: Show Model Summary" inside a real extension host (code-server's
 * Node extension host here; desktop VS Code with `npm run test:electron`), through the `vscode` API.
 * The workspace is a temp copy of `samples/` plus the fixture model (see test/e2e/sampleModel.ts).
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SummaryJobResult } from '../../src/engine/jobs';
import { repoRoot } from '../e2e/paths';
import { CORRUPT_MODEL, CORRUPT_MODEL_TEXT, layerNamesOf, modelUnderTest } from '../e2e/sampleModel';
import { capturingErrors } from './views';

const EXTENSION_ID = 'cnn-lens.cnn-lens';
const COMMAND = 'cnnLens.showSummary';

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need a workspace folder');
  return folder.uri.fsPath;
}

function summary(uri?: vscode.Uri): Thenable<SummaryJobResult | undefined> {
  return uri ? vscode.commands.executeCommand<SummaryJobResult | undefined>(COMMAND, uri) : vscode.commands.executeCommand<SummaryJobResult | undefined>(COMMAND);
}

function assertSummaryOf(result: SummaryJobResult | undefined, modelPath: string): asserts result is SummaryJobResult {
  assert.ok(result, `no summary returned for ${modelPath}`);
  assert.equal(path.resolve(result.summary.path), path.resolve(modelPath));
  assert.ok(result.summary.layers.length > 0, 'summary has layers');
  assert.ok(result.summary.totals.params > 0, 'summary counts parameters');
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(result.backend), `backend ${result.backend}`);
}

describe('integration: CNN Lens in a real extension host', function () {
  this.timeout(120_000);

  before(async function () {
    // Start from a clean editor area (the workbench may restore or open editors at start-up).
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('the extension is installed and activates', async function () {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers cnnLens.showSummary after activation', async function () {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes(COMMAND), `${COMMAND} is not registered`);
    const contributed = (vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes?: { commands?: { command: string }[] } })
      .contributes?.commands?.map((c) => c.command);
    assert.ok(contributed?.includes(COMMAND), `${COMMAND} is not contributed in package.json`);
  });

  it('summarizes the sample model given as a URI, every layer of model.json listed', async function () {
    const model = path.join(workspaceDir(), modelUnderTest(workspaceDir()));
    const { value: result, errors } = await capturingErrors(() => summary(vscode.Uri.file(model)));
    assert.deepEqual(errors, []);
    assertSummaryOf(result, model);
    assert.equal(result.summary.format, 'tfjs-layers');
    const names = result.summary.layers.map((l) => l.name);
    for (const expected of layerNamesOf(model)) assert.ok(names.includes(expected), `layer ${expected} missing from ${names.join(', ')}`);
  });

  it('summarizes the model open in the active editor when given no argument', async function () {
    const model = path.join(workspaceDir(), modelUnderTest(workspaceDir()));
    await vscode.window.showTextDocument(vscode.Uri.file(model));
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, model);
    assertSummaryOf(await summary(), model);
  });

  it('summarizes a Keras 2 .h5 file (h5wasm in the extension host)', async function () {
    const model = path.join(repoRoot, 'test/fixtures/models/keras2_sequential.h5');
    const result = await summary(vscode.Uri.file(model));
    assertSummaryOf(result, model);
    assert.equal(result.summary.format, 'keras-h5');
  });

  it('shows an error naming a corrupt model.json, and the extension host keeps working', async function () {
    const corrupt = path.join(workspaceDir(), CORRUPT_MODEL);
    mkdirSync(path.dirname(corrupt), { recursive: true });
    writeFileSync(corrupt, CORRUPT_MODEL_TEXT);

    const { value, errors } = await capturingErrors(() => summary(vscode.Uri.file(corrupt)));
    assert.equal(value, undefined, 'no summary for a corrupt file');
    assert.equal(errors.length, 1, `one error message, got ${JSON.stringify(errors)}`);
    assert.ok(errors[0].includes(corrupt), `the error names the file: ${errors[0]}`);
    assert.match(errors[0], /^CNN Lens: .*not valid JSON/);

    // The engine and the extension host survived: the same command works again.
    const good = path.join(workspaceDir(), modelUnderTest(workspaceDir()));
    assertSummaryOf(await summary(vscode.Uri.file(good)), good);
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, true);
  });

  it('asks for a model file when no editor is open and no file is given', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const { value, errors } = await capturingErrors(() => summary());
    assert.equal(value, undefined);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /open or select a model file/);
  });
});
