/// <reference types="mocha" />
/**
 * E2E: the model editor follows the VS Code colour theme. For "Default Light Modern", "Default
 * Dark Modern" and "Default High Contrast" (picked with "Preferences: Color Theme") a layer-table row's computed text colour and background equal the
 * webview's `--vscode-editor-foreground` / `--vscode-editor-background`, and those differ between
 * the themes. Screenshot per theme: `theme-light`, `theme-dark`, `theme-hc`.
 */
import * as assert from 'node:assert/strict';
import type { Frame } from 'playwright-core';
import { CodeServer } from './codeServer';
import { Workbench } from './workbench';
import { artifactAndShutdownHooks } from './hooks';
import { modelUnderTest } from './sampleModel';
import { layerTableFrame, openWithCnnLens } from './modelEditorUi';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Colours {
  rowColor: string;
  rowBackground: string;
  editorForeground: string;
  editorBackground: string;
}

/** A body row's computed colours, and the editor colour variables resolved the same way. */
async function colours(frame: Frame): Promise<Colours> {
  const row = frame.locator('layer-table .body-row').last();
  return row.evaluate((el) => {
    const w = globalThis as unknown as { getComputedStyle(e: unknown): { color: string; backgroundColor: string }; document: any };
    const doc = w.document;
    const resolve = (prop: 'color' | 'backgroundColor', variable: string): string => {
      const probe = doc.createElement('div');
      probe.style[prop] = `var(${variable})`;
      doc.body.appendChild(probe);
      const v = w.getComputedStyle(probe)[prop];
      probe.remove();
      return v;
    };
    // The effective background: the first non-transparent one up the tree (through shadow roots).
    let bg = 'rgba(0, 0, 0, 0)';
    for (let n: any = el; n; n = n.parentElement ?? (n.getRootNode?.() as { host?: unknown })?.host) {
      const b = w.getComputedStyle(n).backgroundColor;
      if (b && b !== 'transparent' && b !== 'rgba(0, 0, 0, 0)') {
        bg = b;
        break;
      }
    }
    return {
      rowColor: w.getComputedStyle(el).color,
      rowBackground: bg,
      editorForeground: resolve('color', '--vscode-editor-foreground'),
      editorBackground: resolve('backgroundColor', '--vscode-editor-background'),
    };
  });
}

/** "Preferences: Color Theme" from the command palette, then the theme's row in the picker. */
async function pickTheme(wb: Workbench, theme: string): Promise<void> {
  const page = wb.page;
  const widget = page.locator('.quick-input-widget');
  if (await widget.isVisible()) await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill('>Preferences: Color Theme');
  const command = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Preferences: Color Theme' }).first();
  await command.waitFor({ state: 'visible', timeout: 10_000 });
  await command.click();
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: new RegExp(`^${theme}$`) }).first();
  await input.fill(theme);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await (await row.count() ? row : page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: theme }).first()).click();
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

describe('e2e: CNN Lens follows the colour theme', function () {
  this.timeout(240_000);
  let server: CodeServer;
  let wb: Workbench;
  let frame: Frame;
  const seen: Colours[] = [];

  before(async function () {
    server = await CodeServer.start({ installExtension: true });
    wb = await Workbench.open(server);
    const model = modelUnderTest(server.workspace);
    await openWithCnnLens(wb, model);
    frame = await layerTableFrame(wb, `/${model}`);
  });

  artifactAndShutdownHooks(() => ({ server, wb }));

  for (const [theme, shot] of [
    ['Default Light Modern', 'theme-light'],
    ['Default Dark Modern', 'theme-dark'],
    ['Default High Contrast', 'theme-hc'],
  ] as const) {
    it(`${theme}: the layer table uses the editor's foreground and background`, async function () {
      await pickTheme(wb, theme);
      // Wait until the webview's editor background differs from every theme seen before.
      let c: Colours | undefined;
      for (let i = 0; i < 120; i++) {
        frame = await layerTableFrame(wb, '/');
        c = await colours(frame).catch(() => undefined);
        if (c && !seen.some((s) => s.editorBackground === c!.editorBackground && s.editorForeground === c!.editorForeground)) break;
        c = undefined;
        await sleep(250);
      }
      assert.ok(c, `the webview's colours did not change for ${theme}: ${JSON.stringify(seen)}`);
      await sleep(500);
      c = await colours(frame);
      await wb.screenshot(shot);
      assert.equal(c.rowColor, c.editorForeground, `${theme}: row text colour ${JSON.stringify(c)}`);
      assert.equal(c.rowBackground, c.editorBackground, `${theme}: row background ${JSON.stringify(c)}`);
      seen.push(c);
    });
  }
});
