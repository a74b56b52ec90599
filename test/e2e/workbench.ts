/**
 * Drives the code-server workbench with Playwright (playwright-core + Debian's /usr/bin/chromium)
 * the way a person would: command palette, Quick Open, notifications, the Output panel, webviews.
 *
 * Kept free of DOM typings (the test tsconfig has `lib: ES2022` only): code that runs in the page
 * reaches `document` through `globalThis`.
 */
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CodeServer } from './codeServer';
import { artifactsDir, slug } from './paths';

export const CHROMIUM = process.env.CNN_LENS_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenOptions {
  /** Page URL; default: the workbench with the server's workspace folder. */
  url?: string;
  /** Runs on the fresh page before navigation (e.g. `page.exposeFunction`). */
  beforeNavigate?: (page: Page) => Promise<void>;
  /** Wait until the workbench has rendered (default true). */
  waitForWorkbench?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MOD = 'Control'; // Linux keybindings

export class Workbench {
  /** Browser console lines, kept for failure reports. */
  readonly console: string[] = [];

  private constructor(
    readonly server: CodeServer,
    readonly browser: Browser,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(server: CodeServer, options: OpenOptions = {}): Promise<Workbench> {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      const wb = new Workbench(server, browser, context, page);
      page.on('console', (m) => wb.console.push(`[${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => wb.console.push(`[pageerror] ${e.message}`));
      await options.beforeNavigate?.(page);
      await page.goto(options.url ?? server.url());
      if (options.waitForWorkbench !== false) await wb.waitForReady();
      return wb;
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  /** Waits for the workbench layout and the workspace folder in the Explorer. */
  async waitForReady(timeout = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench .part.editor').waitFor({ state: 'visible', timeout });
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout });
    // The Explorer lists the workspace once the remote file system answers.
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout });
  }

  /**
   * Runs a command from the palette: F1, type the title, Enter on the matching entry. The palette
   * lists the commands whose `when` clause held as it opened; right after a tab switch the
   * editor's context keys may still be settling, so a palette without the command is opened once
   * more before giving up.
   */
  async runCommand(title: string, timeout = 20_000): Promise<void> {
    const row = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: title }).first();
    for (let attempt = 1; ; attempt++) {
      await this.openQuickInput('F1');
      await this.page.locator('.quick-input-widget .quick-input-box input').fill(`>${title}`);
      try {
        await row.waitFor({ state: 'visible', timeout: timeout / 2 });
        break;
      } catch {
        await this.page.keyboard.press('Escape');
        if (attempt === 2) throw new Error(`Command "${title}" not found in the command palette`);
        await sleep(1000);
      }
    }
    await row.click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
  }

  /** Opens a workspace file through Quick Open (Ctrl+P) by its workspace-relative path. */
  async openFile(relPath: string, timeout = 20_000): Promise<void> {
    const base = path.posix.basename(relPath);
    const dir = path.posix.dirname(relPath);
    await this.openQuickInput(`${MOD}+P`);
    await this.page.locator('.quick-input-widget .quick-input-box input').fill(relPath);
    // The row for this exact file: its label is the file name, its description the folder.
    const row = this.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ hasText: base })
      .filter({ hasText: dir === '.' ? base : dir })
      .first();
    await row.waitFor({ state: 'visible', timeout });
    await row.click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
    await this.page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ state: 'visible', timeout });
    // Focus the editor so `resourceFilename` when-clauses see this file.
    await this.page.locator('.part.editor .editor-instance .monaco-editor .view-lines').first().click();
  }

  private async openQuickInput(key: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    if (await widget.isVisible()) await this.page.keyboard.press('Escape');
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.page.keyboard.press(key);
      try {
        await widget.waitFor({ state: 'visible', timeout: 5000 });
        return;
      } catch {
        // keyboard focus may have been outside the workbench: click a neutral spot and retry
        await this.page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
      }
    }
    throw new Error(`Quick input did not open with ${key}`);
  }

  /** Messages of the visible notification toasts. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }

  /** Messages in the Notification Center (opens it). */
  async notificationCenter(): Promise<string[]> {
    const center = this.page.locator('.notifications-center');
    if (!(await center.isVisible())) await this.runCommand('Notifications: Show Notifications');
    await center.waitFor({ state: 'visible' });
    const messages = await center.locator('.notification-list-item-message').allInnerTexts();
    return messages;
  }

  /** Waits for a notification (toast, else in the Notification Center) whose message matches. */
  async waitForNotification(pattern: RegExp, timeout = 30_000): Promise<string> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const hit = (await this.notifications()).find((m) => pattern.test(m));
      if (hit) return hit;
      await sleep(250);
    }
    const hit = (await this.notificationCenter()).find((m) => pattern.test(m));
    if (hit) return hit;
    throw new Error(`No notification matching ${pattern}; seen: ${JSON.stringify(await this.notificationCenter())}`);
  }

  /**
   * The full text of an Output channel: selects the channel, maximizes the panel, then scrolls
   * the (virtualized) output editor from top to bottom collecting its rendered lines.
   */
  async readOutputChannel(channel: string): Promise<string> {
    await this.showOutputChannel(channel);
    const editor = this.page.locator('.part.panel .monaco-editor').first();
    await editor.waitFor({ state: 'visible' });
    await editor.locator('.view-lines').click();
    await this.page.keyboard.press(`${MOD}+Home`);
    const lines = new Map<number, string>();
    let lastSize = -1;
    for (let page = 0; page < 200 && lines.size !== lastSize; page++) {
      lastSize = lines.size;
      await sleep(100);
      const visible = await editor.locator('.view-lines').evaluate((el: any) =>
        Array.from(el.children as ArrayLike<any>).map((line: any) => [parseFloat(line.style.top) || 0, String(line.textContent ?? '')] as [number, string]),
      );
      for (const [top, text] of visible) lines.set(top, text.replace(/\u00a0/g, ' '));
      await this.page.keyboard.press('PageDown');
    }
    return [...lines.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, text]) => text)
      .join('\n');
  }

  /** Reads an Output channel until its text satisfies `done` (a pattern or a predicate). */
  async waitForOutput(channel: string, done: RegExp | ((text: string) => boolean), timeout = 90_000): Promise<string> {
    const test = typeof done === 'function' ? done : (t: string) => done.test(t);
    const deadline = Date.now() + timeout;
    let text = '';
    for (;;) {
      text = await this.readOutputChannel(channel);
      if (test(text)) return text;
      if (Date.now() > deadline) throw new Error(`Output channel "${channel}" never showed ${done}:\n${text}`);
      await sleep(1000);
    }
  }

  /** Shows the Output panel with `channel` selected, maximized. */
  async showOutputChannel(channel: string): Promise<void> {
    // The channel may already be on show (commands reveal their channel): then no picker at all,
    // since a picker opened over it can lose its list to Quick Open (seen in CI).
    const current = await this.page
      .locator('.part.panel select.monaco-select-box')
      .first()
      .evaluate((e) => (e as unknown as { selectedOptions: ArrayLike<{ textContent: string | null }> }).selectedOptions[0]?.textContent ?? '', undefined)
      .catch(() => '');
    if (current.trim() === channel && (await this.page.locator('.part.panel').isVisible())) {
      if (!(await this.isPanelMaximized())) await this.runCommand('View: Toggle Maximized Panel');
      return;
    }
    try {
      await this.pickOutputChannel(channel);
    } catch {
      await this.page.keyboard.press('Escape');
      await this.pickOutputChannel(channel);
    }
  }

  private async pickOutputChannel(channel: string): Promise<void> {
    await this.openQuickInput('F1');
    await this.page.locator('.quick-input-widget .quick-input-box input').fill('>Output: Show Output Channels');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await this.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Show Output Channels' }).first().click();
    // Typing before the channel picker has replaced the palette would go to the palette (or to
    // Quick Open once the '>' is gone): wait for the new, empty picker first.
    const deadline = Date.now() + 10_000;
    while ((await input.inputValue().catch(() => '>')).startsWith('>')) {
      if (Date.now() > deadline) throw new Error('The output channel picker did not open');
      await sleep(50);
    }
    await input.fill(channel);
    // Rows may also carry a group separator ("Extension Logs"): match the label itself exactly.
    const exact = this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(channel)}\\s*$`) });
    const row = this.page.locator('.quick-input-widget .monaco-list-row').filter({ has: exact }).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
    await this.page.locator('.part.panel').waitFor({ state: 'visible' });
    if (!(await this.isPanelMaximized())) await this.runCommand('View: Toggle Maximized Panel');
  }

  private async isPanelMaximized(): Promise<boolean> {
    const panel = await this.page.locator('.part.panel').boundingBox();
    const editor = await this.page.locator('.part.editor').boundingBox();
    return !!panel && (!editor || editor.height < 40);
  }

  /**
   * The frame of a webview whose document contains `selector` (webviews are an iframe inside an
   * iframe; Playwright's CSS selectors pierce open shadow roots, so Lit elements are found too).
   */
  async findWebviewFrame(selector: string, timeout = 30_000): Promise<Frame> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      for (const frame of this.page.frames()) {
        if (frame === this.page.mainFrame()) continue;
        try {
          if ((await frame.locator(selector).count()) > 0) return frame;
        } catch {
          // frame navigated or detached meanwhile
        }
      }
      await sleep(250);
    }
    throw new Error(`No webview frame contains ${selector}`);
  }

  /**
   * `findWebviewFrame`, but when no frame shows `selector` within `timeout` it runs "Developer:
   * Reload Webviews" once and looks again for as long. Why: in code-server a webview's iframe is
   * now and then claimed by code-server's own service worker (the console says "Found unexpected
   * service worker controller"); its resources then go to the network (net::ERR_NAME_NOT_RESOLVED
   * for vscode-cdn.net) and the document stays blank. Seen on a loaded 2-core machine, for any of
   * our views; reloading the webviews recovers, and the view must then restore itself (which is
   * what the extension is responsible for).
   */
  async findWebviewFrameOrReload(selector: string, timeout = 30_000): Promise<Frame> {
    try {
      return await this.findWebviewFrame(selector, timeout);
    } catch {
      const blank = this.console.filter((l) => /unexpected service worker controller|ERR_NAME_NOT_RESOLVED/.test(l)).length;
      console.error(`    (no webview shows ${selector} after ${timeout} ms; ${blank} service-worker / resource errors in the console; reloading the webviews once)`);
      await this.runCommand('Developer: Reload Webviews');
      return this.findWebviewFrame(selector, timeout);
    }
  }

  /** Marks the document shown in a webview `frame`, so `findRecreatedWebview` passes only a newer one. */
  async markWebviewDocument(frame: Frame): Promise<void> {
    await frame.locator('body').evaluate((body) => (body as unknown as { setAttribute(n: string, v: string): void }).setAttribute('data-e2e-old', ''));
  }

  /**
   * After a reload: the frame of a webview document not marked by `markWebviewDocument` that
   * contains `selector` and satisfies `accept`, polled for up to `timeout`; undefined when none
   * did. `reloadOnce` runs "Developer: Reload Webviews" once half-way (a blank code-server
   * webview, see `findWebviewFrameOrReload`).
   */
  async findRecreatedWebview(selector: string, accept: (frame: Frame) => Promise<boolean>, timeout: number, options: { reloadOnce?: boolean } = {}): Promise<Frame | undefined> {
    const deadline = Date.now() + timeout;
    let reloaded = !options.reloadOnce;
    while (Date.now() < deadline) {
      if (!reloaded && Date.now() > deadline - timeout / 2) {
        reloaded = true;
        await this.runCommand('Developer: Reload Webviews').catch(() => undefined);
      }
      try {
        const frame = await this.findWebviewFrame(`body:not([data-e2e-old]) ${selector}`, 5_000);
        if (await accept(frame)) return frame;
      } catch {
        // the old document is going away or the new one is not there yet
      }
      await sleep(500);
    }
    return undefined;
  }

  /** Saves a full-page screenshot as `<artifacts>/screenshots/<name>.png`; returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(artifactsDir('screenshots'), `${slug(name)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Writes the browser console lines to `<artifacts>/logs/<name>/browser-console.log`. */
  saveConsole(name: string): string {
    const dir = path.join(artifactsDir('logs'), slug(name));
    const file = path.join(dir, 'browser-console.log');
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, this.console.join('\n') + '\n');
    return file;
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
