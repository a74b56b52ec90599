/// <reference types="mocha" />
/**
 * "CNN Lens: Inspect Activations" and "CNN Lens: Show Filters" inside a real extension host.
 * The commands return the panel's state; `waitForRenderMs` makes the activations command wait
 * until the webview reports the grid drawn, so the canvas count is checked end to end.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ActivationsPanelSummary } from '../../src/activations';
import type { FiltersPanelSummary } from '../../src/filters';
import type { ScanReport } from '../../src/engine/client';
import { HIGH_LR_SAMPLE } from './deadFilterFixtures';
import { activate, editorState, sampleImage, sampleModel, workspaceDir } from './views';

function inspect(arg: unknown): Thenable<ActivationsPanelSummary | undefined> {
  return vscode.commands.executeCommand<ActivationsPanelSummary | undefined>('cnnLens.inspectActivations', arg);
}

describe('integration: activations and filters views', function () {
  this.timeout(180_000);

  before(async function () {
    await activate();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('inspects a sample image and the webview draws one canvas per channel', async function () {
    const result = await inspect({ model: sampleModel(), image: sampleImage(), waitForRenderMs: 60_000 });
    assert.ok(result, 'the command returns the panel state');
    assert.equal(result.error, undefined);
    assert.equal(result.imageSource, 'file');
    assert.ok(result.layers.length > 0, 'layers listed');
    assert.ok(result.layer, 'a layer is shown');
    assert.equal(result.shape.length, 3, `the first layer shown is spatial: ${result.shape}`);
    assert.ok(result.channels > 0);
    assert.equal(result.renderedCanvases, result.channels, 'one canvas per channel drawn in the webview');
  });

  it('uses the model open in the CNN Lens editor for an image URI (Explorer context menu)', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const model = sampleModel();
    await vscode.commands.executeCommand('vscode.openWith', model, 'cnnLens.modelEditor');
    await editorState(model);
    const result = await inspect(sampleImage());
    assert.ok(result);
    assert.equal(result.model, model.fsPath);
    assert.ok(result.channels > 0);
  });

  it('shows a requested layer of a dataset image', async function () {
    const model = sampleModel();
    const first = await inspect({ model, index: 0 });
    assert.ok(first && first.layers.length > 1, JSON.stringify(first));
    const layer = first.layers[first.layers.length - 1];
    const result = await inspect({ model, index: 5, layer });
    assert.ok(result);
    assert.equal(result.error, undefined);
    assert.equal(result.imageSource, 'dataset');
    assert.equal(result.layer, layer);
  });

  it('shows the filters of every conv layer', async function () {
    const result = await vscode.commands.executeCommand<FiltersPanelSummary | undefined>('cnnLens.showFilters', sampleModel());
    assert.ok(result);
    assert.equal(result.error, undefined);
    assert.ok(result.layers.length > 0, 'conv layers listed');
    for (const l of result.layers) assert.ok(l.filters > 0, `${l.name} has filters`);
  });
  it('marks the dead channels of the last scan (high-LR sample, conv1)', async function () {
    const file = path.join(workspaceDir(), HIGH_LR_SAMPLE);
    if (!existsSync(file)) this.skip();
    const model = vscode.Uri.file(file);
    const report = await vscode.commands.executeCommand<ScanReport | undefined>('cnnLens.scanDeadFilters', model);
    assert.ok(report, 'the scan returns its report');
    const conv1 = report.layers.find((l) => l.name === 'conv1');
    assert.ok(conv1, `conv1 scanned: ${report.layers.map((l) => l.name)}`);
    assert.equal(conv1.dead.length, 25, `conv1 dead units: ${JSON.stringify(conv1.dead)}`);
    const result = await inspect({ model, image: sampleImage(), layer: 'conv1', waitForRenderMs: 60_000 });
    assert.ok(result);
    assert.equal(result.error, undefined);
    assert.equal(result.layer, 'conv1');
    assert.equal(result.renderedCanvases, result.channels, 'the grid is drawn');
    assert.deepEqual([...result.deadChannels].sort((a, b) => a - b), [...conv1.dead].sort((a, b) => a - b));
  });

  it('keeps the shown layer when the view is hidden and shown again', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const model = sampleModel();
    const first = await inspect({ model, image: sampleImage(), waitForRenderMs: 60_000 });
    assert.ok(first && first.layers.length > 1, JSON.stringify(first));
    const layer = first.layers.find((l) => l !== first.layer);
    assert.ok(layer);
    const chosen = await inspect({ model, layer, waitForRenderMs: 60_000 });
    assert.ok(chosen);
    assert.equal(chosen.layer, layer);
    assert.ok(chosen.renderedCanvases > 0, 'drawn before hiding');
    // Another editor in the same group hides the panel (its webview document is discarded).
    await vscode.window.showTextDocument(model, { viewColumn: vscode.ViewColumn.Active, preview: false });
    // Showing it again (no image, no layer): the recreated webview draws the same layer.
    const shown = await inspect({ model, waitForRenderMs: 60_000 });
    assert.ok(shown);
    assert.equal(shown.layer, layer, 'the same layer is restored');
    assert.equal(shown.renderedCanvases, shown.channels, 'the recreated webview drew the layer again');
  });
});
