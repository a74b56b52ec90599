/// <reference types="mocha" />
/**
 * "CNN Lens: Show Embedding" inside a real extension host, on the sample model and its 1,000
 * labelled PNGs. The command returns the panel's state once the run finished; `waitForRenderMs`
 * makes it wait until the webview reports the points drawn, so the counts are checked end to end.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EmbeddingPanelSummary } from '../../src/embedding';
import { activate, sampleModel } from './views';

function showEmbedding(arg: unknown): Thenable<EmbeddingPanelSummary | undefined> {
  return vscode.commands.executeCommand<EmbeddingPanelSummary | undefined>('cnnLens.showEmbedding', arg);
}

describe('integration: embedding view', function () {
  this.timeout(240_000);

  before(async function () {
    await activate();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  let pcaKnn = 0;

  it('embeds 400 images with PCA: every point drawn, classes and quality numbers', async function () {
    const result = await showEmbedding({ model: sampleModel(), method: 'pca', limit: 400, waitForRenderMs: 60_000 });
    assert.ok(result, 'the command returns the panel state');
    assert.equal(result.panes.length, 1);
    const pane = result.panes[0];
    assert.equal(pane.error, undefined);
    assert.equal(pane.method, 'pca');
    assert.equal(pane.points, 400);
    assert.equal(pane.drawnPoints, 400, 'the webview drew every point');
    assert.equal(pane.classNames?.length, 10);
    assert.ok(pane.layer, 'the default layer is reported');
    assert.ok(pane.knnAccuracy !== null && pane.knnAccuracy > 0.3 && pane.knnAccuracy <= 1, `10-NN accuracy ${pane.knnAccuracy}`);
    assert.ok(pane.trustworthiness !== undefined && pane.trustworthiness > 0.5 && pane.trustworthiness <= 1, `trustworthiness ${pane.trustworthiness}`);
    assert.ok(['wasm', 'tensorflow', 'cpu'].includes(result.backend ?? ''), `backend ${result.backend}`);
    pcaKnn = pane.knnAccuracy!;
  });

  it('runs t-SNE streaming frames, and it separates the classes better than PCA', async function () {
    const result = await showEmbedding({ model: sampleModel(), method: 'tsne', limit: 400, iterations: 400, perplexity: 20, waitForRenderMs: 60_000 });
    assert.ok(result);
    const pane = result.panes[0];
    assert.equal(pane.error, undefined);
    assert.equal(pane.method, 'tsne');
    assert.equal(pane.points, 400);
    assert.equal(pane.drawnPoints, 400);
    assert.ok(pane.frames > 0, 'intermediate layouts were streamed to the view');
    assert.ok(pane.knnAccuracy !== null && pane.knnAccuracy > pcaKnn, `t-SNE 10-NN accuracy ${pane.knnAccuracy} vs PCA ${pcaKnn}`);
    assert.deepEqual(result.settings.method, 'tsne');
    assert.equal(result.settings.iterations, 400);
  });

  it('compares two layers of the same model side by side, with linked selection', async function () {
    const model = sampleModel();
    const first = await showEmbedding({ model, method: 'pca', limit: 300 });
    assert.ok(first?.panes[0].layer);
    const result = await showEmbedding({ model, method: 'pca', limit: 300, compare: { layer: 'conv2' }, waitForRenderMs: 60_000 });
    assert.ok(result);
    assert.equal(result.panes.length, 2);
    assert.equal(result.panes[1].layer, 'conv2');
    for (const p of result.panes) {
      assert.equal(p.error, undefined);
      assert.equal(p.points, 300);
      assert.equal(p.drawnPoints, 300);
    }
    assert.equal(result.linked, true, 'both panes hold the same images');
    assert.notDeepEqual(result.panes[0].knnAccuracy, null);
    // Closing the comparison leaves one pane.
    const closed = await showEmbedding({ model, compare: null, method: 'pca', limit: 300 });
    assert.equal(closed?.panes.length, 1);
  });

  it('reports a bad layer name as the pane error', async function () {
    const result = await showEmbedding({ model: sampleModel(), method: 'pca', limit: 50, layer: 'no_such_layer' });
    assert.ok(result);
    assert.match(result.panes[0].error ?? '', /no_such_layer/);
  });
});
