/// <reference types="mocha" />
/**
 * E2E: "CNN Lens: Train New Classifier Head" from the command palette, as a user runs it, on a
 * small labelled folder (5 new classes × 20 sample images) copied into the workspace: pick the
 * folder, accept the default cut (drop the last Dense layer), set 3 epochs in the settings list,
 * read trainable vs frozen parameters on the confirm step, start; the Training view's curves grow
 * as epochs finish (3 points per series at the end), the run finishes, and the saved model opens
 * in the CNN Lens editor. Then "Fine-tune Model" from the palette, stopped with the view's Cancel
 * button: the best epoch so far is saved, the view survives "Reload Webviews" and a window reload,
 * and "Compare Embeddings" opens the embedding view with both models.
 * The screenshot of the first test is the README's Transfer learning picture.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Frame, Locator } from 'playwright-core';
import { CodeServer } from './codeServer';
import { Workbench } from './workbench';
import { artifactAndShutdownHooks } from './hooks';
import { layerTableFrame, openWithCnnLens } from './modelEditorUi';
import { NEW_CLASSES, copyClassFolders, transferBaseModel } from './trainingData';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DATA_FOLDER = 'training-e2e/new-classes';

describe('e2e: transfer learning', function () {
  this.timeout(600_000);
  let server: CodeServer;
  let wb: Workbench;

  before(async function () {
    server = await CodeServer.start({ installExtension: true });
    copyClassFolders(server.workspace, DATA_FOLDER, NEW_CLASSES, 20);
    wb = await Workbench.open(server);
  });

  artifactAndShutdownHooks(() => ({ server, wb }));

  /** A row of the open QuickPick whose text contains `text`. */
  const row = (text: string | RegExp): Locator => wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  const quickInput = () => wb.page.locator('.quick-input-widget .quick-input-box input');

  it('trains a new classifier head from the palette with the defaults and 3 epochs; the view shows the curves and the new model opens', async function () {
    const model = transferBaseModel(server.workspace);
    const page = wb.page;
    await openWithCnnLens(wb, model);
    await layerTableFrame(wb, `/${model}`);

    // The command opens the first step of its own input right away, so the palette never closes:
    // pick the command, then wait for the flow's first step.
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 10_000 });
    await quickInput().fill('>CNN Lens: Train New Classifier Head');
    await row('Train New Classifier Head').click();

    // Step: the labelled folder (found in the workspace: 5 classes, 100 images).
    const dataRow = row(DATA_FOLDER);
    await dataRow.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await dataRow.innerText(), /5 classes · 100 images/);
    await dataRow.click();

    // Step: the layer to cut at; the highlighted row is the default (drop the last Dense layer).
    await row(/Default: keep the model up to here/).waitFor({ state: 'visible', timeout: 90_000 });
    const focused = page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused');
    await focused.waitFor({ state: 'visible' });
    assert.match(await focused.innerText(), /Default: keep the model up to here and replace predictions/);
    await page.keyboard.press('Enter');

    // Step: the settings list; change Epochs to 3, accept the rest.
    await row('Epochs').waitFor({ state: 'visible', timeout: 30_000 });
    await row('Epochs').click();
    await page.locator('.quick-input-widget .quick-input-message', { hasText: /Epochs/ }).waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
    await quickInput().fill('3');
    await page.keyboard.press('Enter');
    await row(/Continue/).waitFor({ state: 'visible', timeout: 10_000 });
    for (let i = 0; i < 40 && !/Epochs\s*3\b/.test(await row('Epochs').innerText()); i++) await sleep(250);
    assert.match(await row('Epochs').innerText(), /Epochs\s*3\b/);
    assert.match(await row('Validation split').innerText(), /15%/);
    await row(/Continue/).click();

    // Step: the plan — trainable vs frozen parameters — then start.
    const start = row('Start training');
    await start.waitFor({ state: 'visible', timeout: 120_000 });
    const trainable = await row('trainable parameters').innerText();
    const frozen = await row('frozen parameters').innerText();
    const count = (t: string) => Number(/([\d,]+) (?:trainable|frozen) parameters/.exec(t)?.[1].replace(/,/g, ''));
    // The base model's fc1 has 128 units: a Dense(5) head has 128·5 + 5 weights; the rest is frozen.
    assert.equal(count(trainable), 128 * 5 + 5, trainable);
    assert.ok(count(frozen) > 200_000, frozen);
    assert.match(await row('classes').innerText(), /5 classes/);
    await start.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });

    // The Training view: the curves grow as epochs finish.
    const frame: Frame = await wb.findWebviewFrameOrReload('cnn-lens-training-app training-curves', 45_000);
    const points = (chart: string, kind: string) => frame.locator(`training-curves figure[data-chart="${chart}"] circle.point.${kind}`).count();
    const deadline = Date.now() + 420_000;
    while ((await points('loss', 'train')) < 2) {
      if (Date.now() > deadline) assert.fail(`the curves never reached 2 epochs: ${await frame.locator('cnn-lens-training-app .status-line').innerText()}`);
      await sleep(1000);
    }
    for (const chart of ['loss', 'accuracy']) {
      for (const kind of ['train', 'val']) assert.ok((await points(chart, kind)) >= 2, `${chart}/${kind} has 2 points`);
      assert.equal(await frame.locator(`training-curves figure[data-chart="${chart}"] svg[role="img"] path.line.train`).count(), 1, `${chart} training line drawn`);
    }
    await frame.locator('cnn-lens-training-app vscode-badge.status[data-status="finished"]').waitFor({ state: 'attached', timeout: 120_000 });
    // Early stopping needs 3 epochs without improvement (the default patience): all 3 run.
    for (const chart of ['loss', 'accuracy']) for (const kind of ['train', 'val']) assert.equal(await points(chart, kind), 3, `${chart}/${kind} after the run`);
    const after = await frame.locator('cnn-lens-training-app [data-role="after"]').innerText();
    assert.match(after, /^\d+(\.\d)?%$/);
    assert.equal(await frame.locator('epoch-time-chart rect').count(), 3, 'one time bar per epoch');

    // The new model is written and opens in the CNN Lens editor beside the view.
    const saved = `${path.posix.dirname(model)}-head/model.json`;
    assert.ok(existsSync(path.join(server.workspace, saved)), `${saved} written`);
    const editor = await layerTableFrame(wb, saved, 60_000);
    const rows = await editor.locator('layer-table .body-row').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.layer));
    assert.ok(rows.length >= 6, `layers of the new model: ${rows.join(', ')}`);

    // The lower part of the view (time per epoch, dead units, plan) as an extra artifact.
    const dead = await frame.locator('dead-filters-chart tbody tr').count();
    assert.ok(dead >= 1, 'dead units listed per layer');
    const scrollTo = (y: number | 'end') =>
      frame.evaluate((to) => {
        const g = globalThis as unknown as { scrollTo(x: number, y: number): void; document: { body: { scrollHeight: number } } };
        g.scrollTo(0, to === 'end' ? g.document.body.scrollHeight : to);
      }, y);
    await scrollTo('end');
    await sleep(500);
    await wb.screenshot('training-view-lower-part');
    await scrollTo(0);
    await wb.runCommand('Notifications: Clear All Notifications');
    await page.mouse.move(1100, 700); // no hover tooltip in the screenshot
    await sleep(1000); // let the charts settle for the screenshot
  });

  it('fine-tunes from the palette and stops when Cancel is pressed in the Training view, keeping the best epoch so far', async function () {
    const model = 'fashion-mnist-cnn/model.json';
    if (!existsSync(path.join(server.workspace, model))) this.skip();
    // An epoch takes a fraction of a second here, so early stopping (patience 3) could end the run
    // before Cancel is pressed; the model's cnnlens.json `training` section (whose values the flow
    // starts from) turns it off (0 = never) for this run.
    const configFile = path.join(server.workspace, 'fashion-mnist-cnn/cnnlens.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, training: { patience: 0 } }, null, 2));
    const page = wb.page;
    await wb.runCommand('View: Close All Editors');
    await openWithCnnLens(wb, model);
    await layerTableFrame(wb, `/${model}`);

    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 10_000 });
    await quickInput().fill('>CNN Lens: Fine-tune Model');
    await row('Fine-tune Model').click();
    await row(DATA_FOLDER).click({ timeout: 60_000 });
    // Layers to train: the default (top 2 layers with weights) is highlighted.
    await row(/Top 2 layers with weights/).waitFor({ state: 'visible', timeout: 90_000 });
    const focused = page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused');
    assert.match(await focused.innerText(), /Top 2 layers with weights\s*fc1, predictions/);
    await page.keyboard.press('Enter');
    // 200 epochs: the run is still going when Cancel is pressed after the first one.
    await row('Epochs').click({ timeout: 30_000 });
    await quickInput().fill('200');
    await page.keyboard.press('Enter');
    // The settings list comes back rebuilt with the new value; click Continue only on that list
    // (on a busy machine the old rows are still on show for a moment and vanish under the click).
    await row(/Continue/).waitFor({ state: 'visible', timeout: 10_000 });
    for (let i = 0; i < 60 && !/Epochs\s*200\b/.test(await row('Epochs').innerText().catch(() => '')); i++) await sleep(250);
    assert.match(await row('Epochs').innerText(), /Epochs\s*200\b/);
    await row(/Continue/).click({ timeout: 10_000 });
    const start = row('Start training');
    await start.waitFor({ state: 'visible', timeout: 120_000 });
    // fc1 (1600·128 + 128) and predictions (128·10 + 10) are trained.
    assert.match(await row('trainable parameters').innerText(), /206,218 trainable parameters/);
    await start.click();

    let frame = await wb.findWebviewFrameOrReload('cnn-lens-training-app vscode-badge.status[data-status="running"]', 45_000);
    const points = () => frame.locator('training-curves figure[data-chart="loss"] circle.point.train').count();
    const deadline = Date.now() + 300_000;
    while ((await points()) < 1) {
      if (Date.now() > deadline) assert.fail('no epoch finished');
      await sleep(500);
    }
    // The status line is redrawn as every batch reports (epochs take a fraction of a second here), so
    // a click can land on a button that is being replaced; click again until the run is stopping.
    const cancelled = frame.locator('cnn-lens-training-app vscode-badge.status[data-status="cancelled"]');
    const stopping = frame.locator('cnn-lens-training-app .status-line vscode-button', { hasText: 'Cancelling' });
    for (let i = 0; i < 10 && (await cancelled.count()) === 0 && (await stopping.count()) === 0; i++) {
      await frame.locator('cnn-lens-training-app .status-line vscode-button', { hasText: /^\s*Cancel\s*$/ }).click({ timeout: 5_000 }).catch(() => undefined);
      await sleep(1_000);
    }
    await cancelled.waitFor({ state: 'attached', timeout: 120_000 });
    const done = await points();
    assert.ok(done >= 1 && done < 200, `${done} epochs before the stop`);
    const outcome = await frame.locator('cnn-lens-training-app .outcome').innerText();
    assert.match(outcome, /Cancelled; the best checkpoint so far \(epoch \d+\) was kept/);
    assert.match(outcome, /\d+(\.\d)?% before/, 'fine-tuning measures the accuracy before');
    assert.ok(existsSync(path.join(server.workspace, 'fashion-mnist-cnn-finetuned/model.json')), 'the best epoch was saved');

    // The view comes back with its run after "Developer: Reload Webviews" and after a window reload.
    const mark = () => wb.markWebviewDocument(frame);
    const restored = async (what: string): Promise<Frame> => {
      const found = await wb.findRecreatedWebview(
        'cnn-lens-training-app vscode-badge.status[data-status="cancelled"]',
        async (f) => (await f.locator('training-curves figure[data-chart="loss"] circle.point.train').count()) === done,
        120_000,
        { reloadOnce: true },
      );
      return found ?? assert.fail(`the Training view did not come back with ${done} epochs after ${what}`);
    };
    await mark();
    await wb.runCommand('Developer: Reload Webviews');
    frame = await restored('"Developer: Reload Webviews"');
    await mark();
    await wb.runCommand('Developer: Reload Window');
    await wb.waitForReady(120_000);
    frame = await restored('"Developer: Reload Window"');
    assert.match(await frame.locator('cnn-lens-training-app .outcome').innerText(), /Cancelled; the best checkpoint so far/);

    // "Compare Embeddings" opens the embedding view with a pane per model.
    await frame.locator('cnn-lens-training-app .outcome vscode-button', { hasText: 'Compare Embeddings' }).click();
    const embedding = await wb.findWebviewFrameOrReload('cnn-lens-embedding-app embedding-pane', 60_000);
    for (let i = 0; i < 120 && (await embedding.locator('cnn-lens-embedding-app embedding-pane').count()) < 2; i++) await sleep(250);
    assert.equal(await embedding.locator('cnn-lens-embedding-app embedding-pane').count(), 2, 'base and fine-tuned model side by side');
  });
});
