/// <reference types="mocha" />
/**
 * E2E: the CNN Lens webviews in a real workbench (code-server + chromium), driven like a user:
 * "Reopen Editor With… → CNN Lens" on the sample model.json shows every layer in the table; a
 * 400-layer model stays virtualised; "CNN Lens: Inspect Activations" from the command palette on
 * a sample image draws one non-blank canvas per channel; "CNN Lens: Show Filters" draws tiles.
 * Each test saves a screenshot (README images come from these).
 */
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { CodeServer } from './codeServer';
import { Workbench } from './workbench';
import { artifactAndShutdownHooks } from './hooks';
import { layerNamesOf, modelUnderTest } from './sampleModel';
import { deepLayerName, writeDeepModel } from './deepModel';
import { layerTableFrame, openWithCnnLens, quickOpen } from './modelEditorUi';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function firstConvFilters(modelJson: string): number {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as { modelTopology: Record<string, any> };
  const root = json.modelTopology.model_config ?? json.modelTopology;
  const conv = (root.config.layers as { class_name: string; config: { filters?: number } }[]).find((l) => l.class_name === 'Conv2D');
  assert.ok(conv?.config.filters, 'the sample model has a Conv2D layer');
  return conv.config.filters;
}

describe('e2e: CNN Lens views', function () {
  this.timeout(240_000);
  let server: CodeServer;
  let wb: Workbench;

  before(async function () {
    server = await CodeServer.start({ installExtension: true });
    wb = await Workbench.open(server);
  });

  artifactAndShutdownHooks(() => ({ server, wb }));

  it('opens the sample model with the CNN Lens editor: the layer table shows every layer', async function () {
    const model = modelUnderTest(server.workspace);
    const names = layerNamesOf(path.join(server.workspace, model));
    await openWithCnnLens(wb, model);
    const frame = await layerTableFrame(wb, `/${model}`);
    const rows = frame.locator('layer-table .body-row');
    await rows.nth(names.length - 1).waitFor({ state: 'attached', timeout: 60_000 });
    const shown = await rows.evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.layer));
    for (const name of names) assert.ok(shown.includes(name), `layer ${name} missing from the table: ${shown.join(', ')}`);
    const header = await frame.locator('cnn-lens-model-editor-app .facts').innerText();
    assert.match(header, /Parameters/);
    assert.match(header, /Backend\s*(wasm|tensorflow|cpu)/);
    assert.match(header, /Dataset/);
  });

  it('keeps a 400-layer model virtualised: few rows in the DOM, End reaches the last layer', async function () {
    writeDeepModel(path.join(server.workspace, 'deep-model'), 400);
    await openWithCnnLens(wb, 'deep-model/model.json');
    const frame = await layerTableFrame(wb, 'deep_400');
    const grid = frame.locator('layer-table [role="grid"]');
    assert.equal(await grid.getAttribute('aria-rowcount'), String(401 + 1));
    const inDom = await frame.locator('layer-table .body-row').count();
    assert.ok(inDom > 5 && inDom < 120, `${inDom} rows rendered for 401 layers`);
    await grid.focus();
    await wb.page.keyboard.press('End');
    await frame.locator(`layer-table .body-row[data-layer="${deepLayerName(399)}"]`).waitFor({ state: 'attached', timeout: 10_000 });
    assert.ok((await frame.locator('layer-table .body-row').count()) < 120);
  });

  it('runs "CNN Lens: Inspect Activations" from the palette on a sample image: one non-blank canvas per channel', async function () {
    const model = modelUnderTest(server.workspace);
    const channels = firstConvFilters(path.join(server.workspace, model));
    await wb.runCommand('View: Close All Editors');
    await openWithCnnLens(wb, model);
    await layerTableFrame(wb, `/${model}`);

    const classDir = readdirSync(path.join(server.workspace, 'data/fashion-mnist-1000')).sort()[0];
    const image = readdirSync(path.join(server.workspace, 'data/fashion-mnist-1000', classDir)).filter((f) => f.endsWith('.png')).sort()[0];
    await quickOpen(wb, `data/fashion-mnist-1000/${classDir}/${image}`);
    await wb.runCommand('CNN Lens: Inspect Activations');

    const frame = await wb.findWebviewFrame('feature-map-grid canvas[data-channel]', 90_000);
    const canvases = frame.locator('feature-map-grid canvas[data-channel]');
    await canvases.nth(channels - 1).waitFor({ state: 'attached', timeout: 30_000 });
    assert.equal(await canvases.count(), channels, `the first conv layer has ${channels} channels`);
    // Wait for the paint task to finish ("Drawing … feature maps" status gone), then read pixels.
    await frame.locator('feature-map-grid [role="status"]').waitFor({ state: 'detached', timeout: 30_000 }).catch(() => undefined);
    const stats = await canvases.evaluateAll((els) =>
      els.map((el) => {
        const c = el as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let opaque = 0;
        const colours = new Set<number>();
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] === 255) opaque++;
          colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        }
        return { pixels: d.length / 4, opaque, colours: colours.size };
      }),
    );
    for (const [i, s] of stats.entries()) assert.equal(s.opaque, s.pixels, `canvas ${i} is drawn (${s.opaque}/${s.pixels} opaque pixels)`);
    const varied = stats.filter((s) => s.colours > 1).length;
    // Dead or saturated channels draw as one colour; a working model has some with structure.
    assert.ok(varied >= 1, `${varied} of ${channels} feature maps show structure`);

    // Click a channel: it is enlarged beside the input image.
    await frame.locator('feature-map-grid button.cell').first().click();
    await frame.locator('cnn-lens-activations-app aside feature-map-canvas[mode="image"]').waitFor({ state: 'attached', timeout: 10_000 });
    // Keyboard: → steps to the next layer.
    const before = await frame.locator('cnn-lens-activations-app h2').innerText();
    await frame.locator('cnn-lens-activations-app h1').click();
    await wb.page.keyboard.press('ArrowRight');
    const heading = frame.locator('cnn-lens-activations-app h2');
    for (let i = 0; i < 80 && (await heading.innerText()) === before; i++) await sleep(250);
    assert.notEqual(await frame.locator('cnn-lens-activations-app h2').innerText(), before);
  });

  it('restores the Activations view with its layer after "Reload Webviews" and after a window reload', async function () {
    const model = modelUnderTest(server.workspace);
    await wb.runCommand('View: Close All Editors');
    await openWithCnnLens(wb, model);
    await layerTableFrame(wb, `/${model}`);
    const classDir = readdirSync(path.join(server.workspace, 'data/fashion-mnist-1000')).sort()[0];
    const image = readdirSync(path.join(server.workspace, 'data/fashion-mnist-1000', classDir)).filter((f) => f.endsWith('.png')).sort()[0];
    await quickOpen(wb, `data/fashion-mnist-1000/${classDir}/${image}`);
    await wb.runCommand('CNN Lens: Inspect Activations');
    let frame = await wb.findWebviewFrame('feature-map-grid canvas[data-channel]', 90_000);
    // Step to the second layer with the keyboard, so the restored state is not the default one.
    const first = await frame.locator('cnn-lens-activations-app h2').innerText();
    await frame.locator('cnn-lens-activations-app h1').click();
    await wb.page.keyboard.press('ArrowRight');
    for (let i = 0; i < 80 && (await frame.locator('cnn-lens-activations-app h2').innerText()) === first; i++) await sleep(250);
    const chosen = await frame.locator('cnn-lens-activations-app h2').innerText();
    assert.notEqual(chosen, first);
    const channels = await frame.locator('feature-map-grid canvas[data-channel]').count();

    // Marks the current webview document, so that only a recreated one can pass `restored`.
    const mark = () => wb.markWebviewDocument(frame);
    /** Waits for a new activations webview document showing `chosen` with all its canvases. */
    const restored = async (what: string): Promise<void> => {
      let heading = '';
      const found = await wb.findRecreatedWebview(
        'cnn-lens-activations-app h2',
        async (f) => {
          heading = await f.locator('cnn-lens-activations-app h2').innerText({ timeout: 2_000 });
          return heading === chosen && (await f.locator('feature-map-grid canvas[data-channel]').count()) === channels;
        },
        90_000,
      );
      if (!found) assert.fail(`after ${what} the Activations view shows "${heading}", expected "${chosen}" with ${channels} canvases`);
      frame = found;
    };

    await mark();
    await wb.runCommand('Developer: Reload Webviews');
    await restored('"Developer: Reload Webviews"');
    await wb.screenshot('activations-after-reload-webviews');

    await mark();
    await wb.runCommand('Developer: Reload Window');
    await wb.waitForReady(120_000);
    await restored('"Developer: Reload Window"');
    await wb.screenshot('activations-after-reload-window');
  });

  it('runs "CNN Lens: Show Filters" from the model editor: tiles, a weight histogram and the noise verdict', async function () {
    const model = modelUnderTest(server.workspace);
    const filters = firstConvFilters(path.join(server.workspace, model));
    await wb.runCommand('View: Close All Editors');
    await openWithCnnLens(wb, model);
    await layerTableFrame(wb, `/${model}`);
    await wb.runCommand('CNN Lens: Show Filters');
    const frame = await wb.findWebviewFrame('filter-tiles figure', 90_000);
    assert.equal(await frame.locator('filter-tiles figure').count(), filters);
    await frame.locator('weight-histogram svg rect').first().waitFor({ state: 'attached' });
    // Every layer gets a verdict; which one depends on the weights, the wording on the test made.
    const verdict = frame.locator('p[role="note"]');
    assert.match(await verdict.innerText(), /^As a layer, (smoother than|indistinguishable from|neighbouring weights alternate more than) noise/);
    assert.match(await verdict.innerText(), /(too few to tell one filter from noise|of \d+ filters noisy)/);
  });
});
