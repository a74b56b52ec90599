/// <reference types="mocha" />
/**
 * Receptive fields inside a real extension host, on the sample CNN (conv1 3×3 → pool1 2×2 →
 * conv2 3×3, all VALID): the Activations view's overlay for a chosen unit (box and heat map
 * received and drawn by the webview), the model editor's RF columns, the effective-field radii
 * computed on demand, and the line in the layer hover.
 *
 * Expected fields, by hand: conv1 3×3 stride 1; pool1 4×4 stride 2; conv2 4 + (3 − 1)·2 = 8×8
 * stride 2, so conv2's unit (5, 6) sees input rows 10…17 and columns 12…19.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ActivationsPanelSummary } from '../../src/activations';
import type { ModelEditorStateSummary } from '../../src/modelEditor';
import type { WireLayerReceptiveField } from '../../src/protocol';
import { activate, editorState, sampleImage, sampleModel } from './views';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function inspect(arg: unknown): Thenable<ActivationsPanelSummary | undefined> {
  return vscode.commands.executeCommand<ActivationsPanelSummary | undefined>('cnnLens.inspectActivations', arg);
}

describe('integration: receptive fields', function () {
  this.timeout(240_000);

  before(async function () {
    await activate();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows the receptive field of conv2 unit (5, 6) over the input: box and heat map drawn', async function () {
    const result = await inspect({ model: sampleModel(), image: sampleImage(), layer: 'conv2', channel: 3, unit: [5, 6], waitForRenderMs: 60_000 });
    assert.ok(result, 'the command returns the panel state');
    assert.equal(result.error, undefined);
    assert.equal(result.receptiveFieldError, undefined);
    const rf = result.receptiveField;
    assert.ok(rf, 'the overlay was computed');
    assert.equal(rf.layer, 'conv2');
    assert.equal(rf.channel, 3);
    assert.deepEqual(rf.unit, [5, 6]);
    assert.equal(rf.images, 1);
    assert.deepEqual(rf.size, [8, 8]);
    assert.deepEqual(rf.box, [10, 12, 17, 19]);
    assert.deepEqual(rf.heatmapSize, [28, 28]);
    const r90 = rf.radii.find((r) => r.fraction === 0.9)?.radius;
    if (rf.heatmapMax > 0) {
      assert.equal(rf.heatmapMax, 1);
      assert.ok(r90 !== undefined && r90 > 0 && r90 < 8, `ERF r90 ${r90} inside the 8×8 field`);
    } else {
      assert.match(rf.note ?? '', /zero gradient/, 'a unit without heat is explained');
    }
    assert.deepEqual(rf.drawn, { box: true, heatmap: true }, 'the webview drew the box and the heat map');
  });

  it('averages the effective field over dataset images on request', async function () {
    const result = await inspect({ model: sampleModel(), image: sampleImage(), layer: 'conv2', channel: 0, unit: [0, 0], erfImages: 16, waitForRenderMs: 60_000 });
    assert.ok(result?.receptiveField, JSON.stringify(result));
    assert.equal(result.receptiveField.images, 16);
    assert.deepEqual(result.receptiveField.box, [0, 0, 7, 7]);
  });

  it('refuses a unit outside the feature map, naming it', async function () {
    const result = await inspect({ model: sampleModel(), image: sampleImage(), layer: 'conv2', channel: 0, unit: [11, 0] });
    assert.ok(result);
    assert.match(result.receptiveFieldError ?? '', /conv2 is 11×11; there is no unit \(11, 0\)/);
  });

  it('fills the model editor RF columns, computes ERF radii on demand, and hovers show the field', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const model = sampleModel();
    await vscode.commands.executeCommand('vscode.openWith', model, 'cnnLens.modelEditor');
    await editorState(model);
    let state: ModelEditorStateSummary | undefined;
    for (let i = 0; i < 120 && !(state && state.receptiveFields.layers > 0); i++) {
      const states = (await vscode.commands.executeCommand<ModelEditorStateSummary[]>('cnnLens._modelEditorState')) ?? [];
      state = states.find((s) => s.model === model.fsPath);
      await sleep(250);
    }
    assert.ok(state && state.receptiveFields.layers >= 7, `RF rows sent to the table: ${JSON.stringify(state?.receptiveFields)}`);
    assert.equal(state.receptiveFields.withErf, 0, 'ERF radii wait for the button');

    const computed = await vscode.commands.executeCommand<{ layers: WireLayerReceptiveField[]; erf: string; note?: string }>(
      'cnnLens._computeEffectiveReceptiveFields',
      model,
    );
    assert.ok(computed, 'radii computed');
    assert.equal(computed.erf, 'done', computed.note);
    const conv2 = computed.layers.find((l) => l.name === 'conv2');
    assert.ok(conv2, 'conv2 listed');
    assert.deepEqual(conv2.size, [8, 8]);
    assert.deepEqual(conv2.stride, [2, 2]);
    assert.deepEqual(conv2.padding, [0, 0]);
    const r50 = conv2.erfRadii?.find((r) => r.fraction === 0.5)?.radius;
    const r90 = conv2.erfRadii?.find((r) => r.fraction === 0.9)?.radius;
    assert.ok(r50 !== undefined && r90 !== undefined && r50 > 0 && r50 <= r90 && r90 < 8, `ERF radii ${r50} / ${r90}`);
    // The open editor's table got them too.
    for (let i = 0; i < 40; i++) {
      const states = (await vscode.commands.executeCommand<ModelEditorStateSummary[]>('cnnLens._modelEditorState')) ?? [];
      state = states.find((s) => s.model === model.fsPath);
      if (state && state.receptiveFields.withErf > 0) break;
      await sleep(250);
    }
    assert.ok(state && state.receptiveFields.withErf >= 3 && state.receptiveFields.erf === 'done', JSON.stringify(state?.receptiveFields));

    // A layer name in a Python string: the hover has the receptive-field line.
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: "features = model.get_layer('conv2')\n" });
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 30));
    const text = (hovers ?? [])
      .flatMap((h) => h.contents)
      .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
      .join('\n')
      .replace(/\\/g, '');
    assert.match(text, new RegExp(`Receptive field: 8×8, stride 2 \\(ERF r90 ≈ ${r90.toFixed(1)} px\\)`), text);
  });
});
