/// <reference types="mocha" />
/**
 * E2E: "CNN Lens: Show Model Summary" driven through the real workbench (code-server + chromium),
 * the built extension installed into code-server's extensions dir as a user would have it.
 */
import * as assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { CodeServer } from './codeServer';
import { Workbench } from './workbench';
import { artifactAndShutdownHooks } from './hooks';
import { CORRUPT_MODEL, CORRUPT_MODEL_TEXT, layerNamesOf, modelUnderTest } from './sampleModel';

describe('e2e: Show Model Summary', function () {
  this.timeout(180_000);
  let server: CodeServer;
  let wb: Workbench;

  before(async function () {
    server = await CodeServer.start({ installExtension: true });
    wb = await Workbench.open(server);
  });

  artifactAndShutdownHooks(() => ({ server, wb }));

  it('prints the layer table of the sample model to the CNN Lens output channel', async function () {
    const model = modelUnderTest(server.workspace);
    const layers = layerNamesOf(path.join(server.workspace, model));
    assert.ok(layers.length > 0, `no layers in ${model}`);

    await wb.openFile(model);
    await wb.runCommand('CNN Lens: Show Model Summary');

    // The command shows the channel itself when done; wait for the table's totals line.
    const text = await wb.waitForOutput('CNN Lens', /Total params:/);
    assert.match(text, /Layer\s+Class\s+Output\s+Params/, `no layer table header in the output:\n${text}`);
    assert.match(text, /Total params: [\d,]+/);
    for (const name of layers) {
      assert.match(text, new RegExp(`^.*\\b${name}\\b`, 'm'), `layer ${name} missing from the output:\n${text}`);
    }
    assert.ok(text.includes(path.basename(path.dirname(model))), 'the output names the model file');
    assert.deepEqual(
      (await wb.notifications()).filter((m) => /CNN Lens:/.test(m) && !/loading model/.test(m)),
      [],
      'no error notification',
    );
  });

  it('shows an error naming a corrupt model.json, and keeps working afterwards', async function () {
    const corrupt = path.join(server.workspace, CORRUPT_MODEL);
    mkdirSync(path.dirname(corrupt), { recursive: true });
    writeFileSync(corrupt, CORRUPT_MODEL_TEXT);

    await wb.openFile(CORRUPT_MODEL);
    await wb.runCommand('CNN Lens: Show Model Summary');
    const message = await wb.waitForNotification(/CNN Lens:.*model\.json/);
    assert.ok(message.includes(CORRUPT_MODEL), `the error names the file: ${message}`);
    assert.match(message, /not valid JSON/i);

    // No crash: the extension host still answers the same command on a good model.
    await wb.openFile(modelUnderTest(server.workspace));
    await wb.runCommand('CNN Lens: Show Model Summary');
    // The channel holds: the first test's summary, the error, then this new summary.
    const text = await wb.waitForOutput('CNN Lens', (t) => /Total params:/.test(t.split(/not valid JSON/).slice(1).join('')));
    assert.match(text, /\[error\].*not valid JSON/, 'the error is logged to the channel too');
    assert.doesNotMatch(wb.console.join('\n'), /Extension host .*terminated unexpectedly/i);
  });
});
