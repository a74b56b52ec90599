/// <reference types="mocha" />
/**
 * E2E: receptive fields and embeddings in a real workbench (code-server + chromium), driven like a
 * user. The model editor's table shows each layer's receptive field; "CNN Lens: Inspect
 * Activations" → enlarge a conv2 channel → click one of its cells: the unit's theoretical field is
 * drawn as a box over the input image with the effective field's heat map; "CNN Lens: Show
 * Embedding" draws the 1,000 sample images as a scatter plot with a 10-class legend, and hovering
 * a point shows its thumbnail; the finished embedding comes back after "Reload Webviews" and after
 * a window reload without being computed again, unless its inputs changed. Each test saves a
 * screenshot (README images come from these).
 */
import * as assert from 'node:assert/strict';
import { appendFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer } from './codeServer';
import { Workbench } from './workbench';
import { artifactAndShutdownHooks } from './hooks';
import { modelUnderTest } from './sampleModel';
import { layerTableFrame, openWithCnnLens, quickOpen } from './modelEditorUi';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Inked (non-transparent) and distinct-colour pixel counts of a canvas (WebGL or 2-D), read
 * through a 2-D copy, and how many pixels have exactly the colour `exact` (r, g, b).
 */
async function canvasInk(frame: Frame, selector: string, exact: [number, number, number] = [-1, -1, -1]): Promise<{ pixels: number; inked: number; colours: number; exact: number }> {
  return frame.locator(selector).first().evaluate((el, exact) => {
    const src = el as unknown as { width: number; height: number };
    const doc = (globalThis as unknown as { document: { createElement(t: string): any } }).document;
    const copy = doc.createElement('canvas');
    copy.width = src.width;
    copy.height = src.height;
    const ctx = copy.getContext('2d');
    ctx.drawImage(src, 0, 0);
    const d = ctx.getImageData(0, 0, src.width, src.height).data as Uint8ClampedArray;
    let inked = 0;
    let same = 0;
    const colours = new Set<number>();
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0) {
        inked++;
        colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        if (d[i + 3] === 255 && d[i] === exact[0] && d[i + 1] === exact[1] && d[i + 2] === exact[2]) same++;
      }
    }
    return { pixels: d.length / 4, inked, colours: colours.size, exact: same };
  }, exact);
}

/** The plot's renderer once it has drawn: 'webgl' or '2d'. */
async function rendererOf(frame: Frame): Promise<string | undefined> {
  return frame.locator('scatter-plot').evaluate((el) => (el as unknown as { rendererKind?: string }).rendererKind);
}

describe('e2e: receptive fields and embeddings', function () {
  this.timeout(300_000);
  let server: CodeServer;
  let wb: Workbench;

  before(async function () {
    server = await CodeServer.start({ installExtension: true });
    wb = await Workbench.open(server);
  });

  artifactAndShutdownHooks(() => ({ server, wb }));

  it('clicking a cell of the enlarged feature map draws its receptive field over the input image', async function () {
    const model = modelUnderTest(server.workspace);
    await openWithCnnLens(wb, model);
    const editor = await layerTableFrame(wb, `/${model}`);
    // The layer table's RF columns: conv2 sees 8×8 input pixels at stride 2.
    const conv2Row = editor.locator('layer-table .body-row[data-layer="conv2"]');
    await conv2Row.locator('.rf').first().waitFor({ state: 'attached', timeout: 60_000 });
    for (let i = 0; i < 80 && !(await conv2Row.innerText()).includes('8×8'); i++) await sleep(250);
    assert.match(await conv2Row.innerText(), /8×8\s+2\s+0/);
    // "Compute effective RF" fills the ERF column (radii in input pixels, r50 / r90).
    const computeErf = editor.locator('cnn-lens-model-editor-app vscode-button', { hasText: 'Compute effective RF' });
    // Enabled once the dataset is known.
    for (let i = 0; i < 120 && (await computeErf.getAttribute('disabled')) !== null; i++) await sleep(250);
    await computeErf.click();
    const erfCell = conv2Row.locator('.erf');
    for (let i = 0; i < 240 && !/\d\.\d \/ \d\.\d/.test(await erfCell.innerText()); i++) await sleep(250);
    assert.match(await erfCell.innerText(), /^\d\.\d \/ \d\.\d$/);
    await wb.screenshot('model-editor-receptive-fields');

    const classDir = readdirSync(path.join(server.workspace, 'data/fashion-mnist-1000')).sort()[0];
    const image = readdirSync(path.join(server.workspace, 'data/fashion-mnist-1000', classDir)).filter((f) => f.endsWith('.png')).sort()[0];
    await quickOpen(wb, `data/fashion-mnist-1000/${classDir}/${image}`);
    await wb.runCommand('CNN Lens: Inspect Activations');
    const frame = await wb.findWebviewFrame('feature-map-grid canvas[data-channel]', 90_000);
    // Step to conv2 with the keyboard.
    const heading = frame.locator('cnn-lens-activations-app h2');
    await frame.locator('cnn-lens-activations-app h1').click();
    for (let i = 0; i < 6 && !/^conv2\b/.test(await heading.innerText()); i++) {
      const before = await heading.innerText();
      await wb.page.keyboard.press('ArrowRight');
      for (let k = 0; k < 80 && (await heading.innerText()) === before; k++) await sleep(250);
    }
    assert.match(await heading.innerText(), /^conv2\b/);
    await frame.locator('feature-map-grid [role="status"]').waitFor({ state: 'detached', timeout: 30_000 }).catch(() => undefined);
    await frame.locator('feature-map-grid button.cell[data-channel="3"]').click();

    // Click cell (5, 6) of the 11×11 map, drawn 224 px wide inside a 1 px border.
    const mapCanvas = frame.locator('aside unit-select-map feature-map-canvas canvas');
    await mapCanvas.waitFor({ state: 'visible', timeout: 10_000 });
    const box = await mapCanvas.boundingBox();
    assert.ok(box);
    const cell = (box.width - 2) / 11;
    await wb.page.mouse.click(box.x + 1 + 6.5 * cell, box.y + 1 + 5.5 * cell);

    const legend = frame.locator('receptive-field-overlay .legend[data-unit="5,6"]');
    await legend.waitFor({ state: 'attached', timeout: 60_000 });
    assert.match(await legend.innerText(), /Receptive field 8×8 · stride 2/);
    assert.match(await legend.innerText(), /ERF r50 [\d.]+ px · r90 [\d.]+ px/);
    // The box covers input rows 10…17, columns 12…19: 8 px per input pixel at 224 px for 28.
    const input = await frame.locator('receptive-field-overlay feature-map-canvas canvas').boundingBox();
    const rfBox = await frame.locator('receptive-field-overlay .box.on').boundingBox();
    assert.ok(input && rfBox, 'the box is shown');
    const scale = (input.width - 2) / 28;
    assert.ok(Math.abs(rfBox.x - (input.x + 1 + 12 * scale)) <= 1.5, `box left ${rfBox.x - input.x}`);
    assert.ok(Math.abs(rfBox.y - (input.y + 1 + 10 * scale)) <= 1.5, `box top ${rfBox.y - input.y}`);
    assert.ok(Math.abs(rfBox.width - 8 * scale) <= 1.5, `box width ${rfBox.width}`);
    const heat = await canvasInk(frame, 'receptive-field-overlay canvas.heat');
    assert.equal(heat.pixels, 28 * 28);
    assert.ok(heat.inked > 0 && heat.inked <= 64, `heat only inside the 8×8 field: ${heat.inked} pixels`);

    // Keyboard: → moves the selected unit to (5, 7).
    await wb.page.keyboard.press('ArrowRight');
    await frame.locator('receptive-field-overlay .legend[data-unit="5,7"]').waitFor({ state: 'attached', timeout: 60_000 });
    await wb.screenshot('receptive-field-overlay');
  });

  it('"CNN Lens: Show Embedding" draws the sample as a scatter plot; hovering a point shows its thumbnail', async function () {
    const model = modelUnderTest(server.workspace);
    await wb.runCommand('View: Close All Editors');
    await openWithCnnLens(wb, model);
    await layerTableFrame(wb, `/${model}`);
    await wb.runCommand('CNN Lens: Show Embedding');

    const frame = await wb.findWebviewFrame('cnn-lens-embedding-app embedding-pane', 90_000);
    // Default: t-SNE of the first 1,000 images; the legend appears with the finished result.
    const legendButtons = frame.locator('embedding-legend button.cls');
    await legendButtons.nth(9).waitFor({ state: 'attached', timeout: 180_000 });
    assert.equal(await legendButtons.count(), 10, 'one legend entry per class');
    assert.match(await legendButtons.first().innerText(), /T-shirt/);
    const quality = await frame.locator('embedding-pane .quality').innerText();
    assert.match(quality, /10-NN accuracy\s*\d+(\.\d)?%/);
    assert.match(quality, /Trustworthiness\s*0\.\d{3}/);
    assert.match(quality, /Points\s*1,000/);

    const ink = await canvasInk(frame, 'scatter-plot canvas');
    assert.ok(ink.inked > 2000, `the plot is drawn: ${ink.inked} of ${ink.pixels} pixels inked`);
    assert.ok(ink.colours >= 10, `points in several class colours: ${ink.colours} colours`);

    // Hover point 0: its screen position from the plot's own view transform.
    const canvas = frame.locator('scatter-plot canvas');
    const at = await frame.locator('scatter-plot').evaluate((el) => {
      const p = el as unknown as { points: Float32Array; view: { cx: number; cy: number; scale: number }; size: { w: number; h: number } };
      return [p.size.w / 2 + (p.points[0] - p.view.cx) * p.view.scale, p.size.h / 2 - (p.points[1] - p.view.cy) * p.view.scale];
    });
    const cb = await canvas.boundingBox();
    assert.ok(cb);
    await wb.page.mouse.move(cb.x + at[0] + 20, cb.y + at[1] + 20);
    await wb.page.mouse.move(cb.x + at[0], cb.y + at[1], { steps: 4 });
    const tooltip = frame.locator('embedding-pane .tooltip');
    await tooltip.locator('img').waitFor({ state: 'attached', timeout: 20_000 });
    const src = await tooltip.locator('img').getAttribute('src');
    assert.match(src ?? '', /^data:image\/png;base64,/);
    const text = await tooltip.innerText();
    assert.match(text, /\.png/, 'the file is named');
    assert.match(text, /True: .+/);
    assert.match(text, /Predicted: .+/);
    await wb.screenshot('embedding');

    // `auto` picked WebGL on a GPU, else the 2-D canvas (this VM's WebGL is SwiftShader, on the
    // CPU). Both renderers draw the plot: switch to the other one and look again.
    const plot = frame.locator('scatter-plot');
    const auto = await rendererOf(frame);
    assert.ok(auto === 'webgl' || auto === '2d', `renderer ${auto}`);
    const other = auto === 'webgl' ? '2d' : 'webgl';
    await plot.evaluate((el, r) => {
      (el as unknown as { renderer: string }).renderer = r;
    }, other);
    for (let i = 0; i < 40 && (await rendererOf(frame)) !== other; i++) await sleep(250);
    assert.equal(await rendererOf(frame), other);
    await sleep(500);
    const inkOther = await canvasInk(frame, 'scatter-plot canvas');
    assert.ok(inkOther.inked > 2000 && inkOther.colours >= 10, `${other} after ${auto}: ${JSON.stringify(inkOther)}`);

    // Legend: hiding class 0 removes its colour (Tableau blue #4e79a7) from the plot.
    const blue: [number, number, number] = [0x4e, 0x79, 0xa7];
    const before = await canvasInk(frame, 'scatter-plot canvas', blue);
    assert.ok(before.exact > 20, `class 0 drawn in its colour: ${JSON.stringify(before)}`);
    await legendButtons.first().click();
    assert.equal(await legendButtons.first().getAttribute('aria-pressed'), 'false');
    await sleep(500);
    const after = await canvasInk(frame, 'scatter-plot canvas', blue);
    assert.equal(after.exact, 0, `class 0 hidden: ${JSON.stringify(after)}`);
    assert.ok(after.inked < before.inked, 'fewer pixels inked');
    await frame.locator('embedding-legend vscode-checkbox').waitFor({ state: 'attached' });

    // A run with new settings, cancelled from the view: the finished plot stays, and the view
    // says it is the last finished run's, not the settings now in the controls.
    await frame.locator('cnn-lens-embedding-app vscode-textfield[data-setting="iterations"]').evaluate((el) => {
      (el as unknown as { value: string }).value = '5000';
      const Keyboard = (globalThis as unknown as { KeyboardEvent: new (type: string, init: object) => Event }).KeyboardEvent;
      el.dispatchEvent(new Keyboard('keydown', { key: 'Enter', bubbles: true, composed: true }));
    });
    const cancel = frame.locator('cnn-lens-embedding-app .buttons vscode-button', { hasText: /^\s*Cancel\s*$/ });
    await cancel.waitFor({ state: 'visible', timeout: 30_000 });
    await cancel.click();
    const status = frame.locator('cnn-lens-embedding-app p[role="status"]');
    await status.filter({ hasText: 'Cancelled' }).waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await status.innerText(), /Cancelled\. The plot still shows the last finished run, which may not match the settings above\./);
    assert.equal(await cancel.count(), 0, 'no run left going');
    const kept = await frame.locator('scatter-plot').evaluate((el) => (el as unknown as { points: Float32Array }).points.length / 2);
    assert.equal(kept, 1000, 'the finished plot is kept');
    assert.match(await frame.locator('embedding-pane .quality').innerText(), /Points\s*1,000/);
  });

  it('restores the finished embedding after "Reload Webviews" and a window reload without recomputing; not once cnnlens.json changed', async function () {
    this.timeout(480_000);
    const model = modelUnderTest(server.workspace);
    await wb.runCommand('View: Close All Editors');
    await openWithCnnLens(wb, model); // the model in the CNN Lens editor is the command's model
    await layerTableFrame(wb, `/${model}`);
    await wb.runCommand('CNN Lens: Show Embedding');
    let frame = await wb.findWebviewFrameOrReload('cnn-lens-embedding-app embedding-pane', 90_000);
    // The host's `context` (settings, layers) must have arrived, or it would reset the controls.
    const heading = frame.locator('embedding-pane h2');
    for (let i = 0; i < 240 && !(await heading.innerText().catch(() => '…')).includes('model.json'); i++) await sleep(250);
    const method = frame.locator('cnn-lens-embedding-app vscode-single-select[aria-label="Method"]');
    // Read from the current document (`frame` changes with every reload).
    const methodValue = () => frame.locator('cnn-lens-embedding-app vscode-single-select[aria-label="Method"]').evaluate((el) => (el as unknown as { value: string }).value);

    // A quick result: PCA of 500 images, chosen in the view's controls (Enter in a field runs,
    // replacing the default t-SNE the command started).
    await method.evaluate((el) => {
      (el as unknown as { value: string }).value = 'pca';
      el.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
    });
    assert.equal(await methodValue(), 'pca');
    await frame.locator('cnn-lens-embedding-app vscode-textfield[data-setting="limit"]').evaluate((el) => {
      (el as unknown as { value: string }).value = '500';
      const Keyboard = (globalThis as unknown as { KeyboardEvent: new (type: string, init: object) => Event }).KeyboardEvent;
      el.dispatchEvent(new Keyboard('keydown', { key: 'Enter', bubbles: true, composed: true }));
    });
    const quality = () => frame.locator('embedding-pane .quality').innerText({ timeout: 2_000 });
    for (let i = 0; i < 480 && !/Points\s*500\b/.test(await quality().catch(() => '')); i++) await sleep(250);
    const shown = await quality();
    assert.match(shown, /Points\s*500\b/);
    assert.match(shown, /10-NN accuracy\s*\d+(\.\d)?%/);
    await frame.locator('embedding-legend button.cls').nth(9).waitFor({ state: 'attached', timeout: 30_000 });
    const hidePanel = () => wb.runCommand('View: Hide Panel').catch(() => wb.runCommand('View: Close Panel'));
    const plotPoints = () => frame.locator('scatter-plot').evaluate((el) => (el as unknown as { points: Float32Array }).points.length / 2);
    assert.equal(await plotPoints(), 500);

    // The run logged one line; a run is logged only when the engine finished an `embed` job.
    const runLine = /Embedding: pca of .* \(500 points/;
    const runLines = (text: string) => text.split('\n').filter((l) => runLine.test(l)).length;
    const log = await wb.waitForOutput('CNN Lens', runLine);
    assert.equal(runLines(log), 1, log);
    // The maximized Output panel hid the editor, and with it the webview's document: a new one
    // shows the result again once the panel is closed.
    await hidePanel();
    frame = await wb.findWebviewFrame('cnn-lens-embedding-app embedding-pane .quality', 60_000);

    const mark = () => wb.markWebviewDocument(frame);
    /** Waits for a new embedding document showing the same quality figures (and time) with 500 points in its plot. */
    const restored = async (what: string): Promise<void> => {
      let seen = '';
      const found = await wb.findRecreatedWebview(
        'cnn-lens-embedding-app embedding-pane .quality',
        async (f) => {
          frame = f;
          seen = await quality();
          return seen === shown && (await plotPoints()) === 500;
        },
        120_000,
      );
      if (!found) assert.fail(`after ${what} the Embedding view shows ${JSON.stringify(seen)}, expected ${JSON.stringify(shown)} with 500 points`);
      frame = found;
    };

    // Host alive, webview document recreated: the host sends its result again.
    await mark();
    await wb.runCommand('Developer: Reload Webviews');
    await restored('"Developer: Reload Webviews"');
    let ink = await canvasInk(frame, 'scatter-plot canvas');
    assert.ok(ink.inked > 1000 && ink.colours >= 10, `drawn after Reload Webviews: ${JSON.stringify(ink)}`);

    // New extension host: the result comes from the panel's stored file. The signal that nothing
    // was recomputed: the new host logs "restored" and no run line after it, and the view shows the
    // very same quality figures, including the time the original run took.
    await mark();
    await wb.runCommand('Developer: Reload Window');
    await wb.waitForReady(120_000);
    await restored('"Developer: Reload Window"');
    ink = await canvasInk(frame, 'scatter-plot canvas');
    assert.ok(ink.inked > 1000 && ink.colours >= 10, `drawn after the window reload: ${JSON.stringify(ink)}`);
    assert.equal(await methodValue(), 'pca');
    // "Show Embedding" on the restored panel only reveals it: it holds a result, so no run.
    await wb.page.locator('.tabs-container .tab', { hasText: 'model.json' }).filter({ hasNotText: 'Embedding' }).first().click();
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'model.json' }).filter({ hasNotText: 'Embedding' }).waitFor({ state: 'visible' });
    await wb.runCommand('CNN Lens: Show Embedding');
    frame = await wb.findWebviewFrame('cnn-lens-embedding-app embedding-pane .quality', 60_000);
    assert.equal(await quality(), shown);
    await sleep(3000); // a run of 500 PCA points would have finished and logged by now
    assert.deepEqual((await wb.notifications()).filter((m) => /embedding/i.test(m)), [], 'no embedding progress');
    const afterReload = await wb.waitForOutput('CNN Lens', /Embedding: restored the pca of .* \(500 points\)/);
    const sinceRestore = afterReload.slice(afterReload.search(/Embedding: restored the pca of/));
    assert.equal(runLines(sinceRestore), 0, `no embedding was computed after the restore:\n${sinceRestore}`);
    await hidePanel();
    frame = await wb.findWebviewFrame('cnn-lens-embedding-app embedding-pane .quality', 60_000);
    await wb.screenshot('embedding-after-reload-window');

    // The model's cnnlens.json changes (this workspace is a temp copy): the stored result is out
    // of date, so the restored view has the controls but no plot, and says why.
    appendFileSync(path.join(server.workspace, path.dirname(model), 'cnnlens.json'), '\n');
    await mark();
    await wb.runCommand('Developer: Reload Window');
    await wb.waitForReady(120_000);
    let text = '';
    /** A document not marked old whose status line says the stored result is out of date. */
    const staleView = () =>
      wb.findRecreatedWebview(
        'cnn-lens-embedding-app p[role="status"]',
        async (f) => {
          text = await f.locator('cnn-lens-embedding-app p[role="status"]').innerText({ timeout: 2_000 });
          return /out of date/.test(text);
        },
        60_000,
      );
    frame = (await staleView()) ?? frame;
    assert.match(text, /Press Run to compute the embedding\. The stored result was out of date: the model, its weights or its cnnlens\.json changed\./);
    assert.equal(await frame.locator('embedding-pane .quality').count(), 0, 'no result shown');
    assert.equal(await plotPoints(), 0);
    assert.equal(await methodValue(), 'pca', 'the controls are restored');
    const staleLog = await wb.waitForOutput('CNN Lens', /stored result of .* is out of date/);
    assert.doesNotMatch(staleLog.slice(staleLog.search(/stored result of .* is out of date/)), /Embedding: restored the/);
    await hidePanel();
    await staleView();
    await wb.screenshot('embedding-after-reload-stale');
  });
});
