/**
 * UI helpers shared by the e2e files that open the CNN Lens model editor: Quick Open of a file,
 * "Reopen Editor With… → CNN Lens", and the webview frame holding a model's layer table.
 */
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import type { Workbench } from './workbench';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a workspace file with Quick Open without assuming a text editor (images, custom editors). */
export async function quickOpen(wb: Workbench, relPath: string): Promise<void> {
  const page = wb.page;
  const widget = page.locator('.quick-input-widget');
  if (await widget.isVisible()) await page.keyboard.press('Escape');
  await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
  await page.keyboard.press('Control+P');
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  await page.locator('.quick-input-widget .quick-input-box input').fill(relPath);
  const base = path.posix.basename(relPath);
  // The row whose label and description are exactly the file and its folder
  // ("fashion-mnist-cnn", not "fashion-mnist-cnn-high-lr"); rows may still be re-sorting meanwhile.
  const dir = path.posix.dirname(relPath);
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  // A row's innerText is "<label><description>" on its first line (then e.g. "file results").
  const wanted = `${base}${dir}`;
  let index = -1;
  for (let i = 0; i < 80 && index < 0; i++) {
    await sleep(250);
    const texts = await rows.evaluateAll((els) => els.map((e) => String((e as unknown as { innerText: string }).innerText)));
    index = texts.findIndex((t) => t.trim().split('\n')[0].trim() === wanted);
  }
  if (index < 0) throw new Error(`Quick Open has no row "${wanted}": ${JSON.stringify(await rows.allInnerTexts())}`);
  await rows.nth(index).click();
  await widget.waitFor({ state: 'hidden' });
  await page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ state: 'visible', timeout: 20_000 });
}

/** Opens `relPath` and reopens it with the "CNN Lens" editor (View: Reopen Editor With…). */
export async function openWithCnnLens(wb: Workbench, relPath: string): Promise<void> {
  await quickOpen(wb, relPath);
  const page = wb.page;
  // Focus the text editor: "Reopen Editor With..." is offered only for a focused editor.
  await page.locator('.part.editor .editor-instance .monaco-editor .view-lines').first().click().catch(() => undefined);
  // Workbench.runCommand waits for the palette to close; this command opens a second picker at once.
  // Not "View: Reopen Editor with Text Editor", listed first.
  const command = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: /Reopen Editor With\.\.\./ }).first();
  for (let attempt = 0; ; attempt++) {
    if (await page.locator('.quick-input-widget').isVisible()) await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('.quick-input-widget .quick-input-box input').fill('>View: Reopen Editor With');
    try {
      await command.waitFor({ state: 'visible', timeout: 5000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(1000);
    }
  }
  await command.click();
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'CNN Lens' }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** The webview frame holding the layer table of the model named `modelName` (the <h1> text). */
export async function layerTableFrame(wb: Workbench, modelName: string, timeout = 90_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const frame = await wb.findWebviewFrame('layer-table .body-row', Math.max(1000, deadline - Date.now()));
    const title = await frame.locator('cnn-lens-model-editor-app h1').first().innerText().catch(() => '');
    if (title.includes(modelName)) return frame;
    if (Date.now() > deadline) throw new Error(`no layer table for ${modelName}; saw "${title}"`);
    await sleep(500);
  }
}
