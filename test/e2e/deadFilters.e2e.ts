/// <reference types="mocha" />
/**
 * E2E: the dead-filter scan driven through the real workbench (code-server + chromium), as a
 * user would: open model.json, run "CNN Lens: Scan for Dead Filters" from the palette, see the
 * diagnostics in the Problems panel, hover the layer name and see the dead count (and that the
 * hover's chart images actually load). Screenshots of each step go to the artifacts folder.
 *
 * Model: the trained high-learning-rate sample when the workspace has it (with its cnnlens.json
 * naming the dataset), else the fixture with known dead filters (test/integration/deadFilterFixtures.ts).
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CodeServer } from './codeServer';
import { Workbench } from './workbench';
import { artifactAndShutdownHooks } from './hooks';
import { DEAD_LAYER, DEAD_MODEL_DIR, HIGH_LR_SAMPLE, datasetFor, makeDeadFilterModel, writeConfig } from '../integration/deadFilterFixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('e2e: Scan for Dead Filters', function () {
  this.timeout(240_000);
  let server: CodeServer;
  let wb: Workbench;
  let modelRel: string;
  let layer: string;

  before(async function () {
    server = await CodeServer.start({ installExtension: true });
    const ws = server.workspace;
    if (existsSync(path.join(ws, HIGH_LR_SAMPLE)) && existsSync(path.join(ws, path.dirname(HIGH_LR_SAMPLE), 'cnnlens.json'))) {
      modelRel = HIGH_LR_SAMPLE;
      layer = ''; // known after the scan (first layer with a dead-filter diagnostic)
    } else {
      const model = makeDeadFilterModel(path.join(ws, DEAD_MODEL_DIR));
      writeConfig(model, datasetFor(ws));
      modelRel = `${DEAD_MODEL_DIR}/model.json`;
      layer = DEAD_LAYER;
    }
    wb = await Workbench.open(server);
  });

  artifactAndShutdownHooks(() => ({ server, wb }));

  it('runs from the palette and the Problems panel lists the dead-filter diagnostics', async function () {
    await wb.openFile(modelRel);
    await wb.runCommand('CNN Lens: Scan for Dead Filters');
    const done = await wb.waitForNotification(/CNN Lens: .*dead filters? in|CNN Lens: no dead filters/, 180_000);
    assert.match(done, /dead filters in/, done);
    await wb.screenshot('e2e-dead-filters-scan-notification');

    await wb.runCommand('View: Focus Problems');
    const rows = wb.page.locator('.markers-panel .monaco-list-row', { hasText: 'never fire' });
    await rows.first().waitFor({ state: 'visible', timeout: 30_000 });
    const texts = await wb.page.locator('.markers-panel .monaco-list-row').allInnerTexts();
    const dead = texts.filter((t) => /never fires? on [\d,]+ images? \(dead\)/.test(t));
    assert.ok(dead.length > 0, `Problems panel rows: ${JSON.stringify(texts)}`);
    assert.ok(texts.some((t) => t.includes('model.json')), 'grouped under the model file');
    if (!layer) layer = /^\s*([^:\s]+): \d+ of/m.exec(dead[0])?.[1] ?? '';
    assert.ok(layer, `layer name from ${dead[0]}`);
    if (modelRel === `${DEAD_MODEL_DIR}/model.json`) {
      assert.ok(dead.some((t) => t.includes(`${DEAD_LAYER}: 2 of 4 filters never fire`)), JSON.stringify(dead));
    }
  });

  it('hovering the layer name in model.json shows the dead count and the chart', async function () {
    // Close the panel so the editor has the room, then put the cursor on the layer's name.
    await wb.runCommand('View: Close Panel').catch(() => undefined);
    const text = readFileSync(path.join(server.workspace, modelRel), 'utf8');
    const re = new RegExp(`"name"\\s*:\\s*"${layer}"`);
    const m = re.exec(text.slice(text.indexOf('"modelTopology"')));
    assert.ok(m, `"name": "${layer}" in ${modelRel}`);
    const offset = text.indexOf('"modelTopology"') + m.index + m[0].length - layer.length - 1;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n') + 1;
    await wb.openFile(modelRel);
    // Go to Line/Column (Ctrl+G) is a quick input itself: type into it rather than through runCommand.
    await wb.page.keyboard.press('Control+G');
    const input = wb.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`:${line}:${column + 1}`);
    await wb.page.keyboard.press('Enter');
    await wb.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    await sleep(300);
    // Hover the layer name's token with the mouse, as a user does. (The keyboard "Show or Focus
    // Hover" command is unreliable on a long minified line, the form TF.js saves model.json in.)
    const token = wb.page.locator('.monaco-editor .view-lines span', { hasText: new RegExp(`^"${layer}"$`) }).first();
    await token.waitFor({ state: 'visible', timeout: 10_000 });
    await token.hover();
    // The hover widget shows the diagnostic's row and ours: pick ours (it has the alive count).
    const hover = wb.page.locator('.monaco-hover:not(.hidden) .hover-row', { hasText: /alive of/ }).first();
    await hover.waitFor({ state: 'visible', timeout: 30_000 });
    const hoverText = await hover.innerText();
    assert.match(hoverText, new RegExp(`${layer}`));
    assert.match(hoverText, /\d+ dead/);
    // The chart and tiles are data-URI images: they must be in the hover and decoded.
    const images = hover.locator('img');
    await images.first().waitFor({ state: 'attached', timeout: 10_000 });
    const loaded = await images.evaluateAll((els: any[]) => els.map((e) => ({ src: String(e.src).slice(0, 22), w: e.naturalWidth as number })));
    assert.ok(loaded.length >= 1, 'images in the hover');
    assert.ok(loaded.every((i) => i.src.startsWith('data:image/png') && i.w > 0), JSON.stringify(loaded));
    await wb.screenshot('e2e-dead-filters-hover');
    await wb.page.keyboard.press('Escape');
  });

  it('the CNN Lens view in the Explorer lists the model with its dead count', async function () {
    const header = wb.page.locator('.pane-header', { hasText: /^\s*CNN Lens/i }).first();
    await header.waitFor({ state: 'visible', timeout: 20_000 });
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const pane = wb.page.locator('.pane', { has: header }).first();
    const modelRow = pane.locator('.monaco-list-row', { hasText: path.posix.dirname(modelRel) }).filter({ hasText: /\d+ dead/ }).first();
    await modelRow.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await modelRow.innerText(), /\d+ dead/);
    if ((await modelRow.getAttribute('aria-expanded')) !== 'true') await modelRow.click();
    const layerRow = pane.locator('.monaco-list-row', { hasText: layer }).filter({ hasText: /\d+ dead/ }).first();
    await layerRow.waitFor({ state: 'visible', timeout: 20_000 });
    await wb.screenshot('e2e-dead-filters-explorer-view');
  });

  it('shows the scan report (Markdown preview) with the per-layer table and charts', async function () {
    await wb.openFile(modelRel);
    await wb.runCommand('CNN Lens: Show Dead-Filter Report');
    const frame = await wb.findWebviewFrame('img[alt^="firing-rate histogram"]', 60_000);
    const table = await frame.locator('table').first().innerText();
    assert.match(table, new RegExp(`${layer}\\s+Conv2D`), table);
    const widths = await frame.locator('img').evaluateAll((els: any[]) => els.map((e) => e.naturalWidth as number));
    assert.ok(widths.length > 0 && widths.every((w) => w > 0), `report images load: ${JSON.stringify(widths)}`);
    await wb.screenshot('e2e-dead-filters-report');
  });
});
