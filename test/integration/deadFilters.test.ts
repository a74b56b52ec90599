/// <reference types="mocha" />
/**
 * Integration tests of the dead-filter features inside a real extension host (code-server's Node
 * extension host; desktop VS Code with `npm run test:electron`): "CNN Lens: Scan for Dead
 * Filters" → diagnostics on the layers' lines of model.json, hovers on layer names (model.json
 * and a Python file), the Markdown report, invalidation when an input changes, and a corrupt
 * model reported as an error, not a crash.
 *
 * The model with known dead filters is built in the workspace copy (see deadFilterFixtures.ts);
 * the trained high-learning-rate sample is scanned too when it exists.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ScanReport } from '../../src/engine/client';
import { CORRUPT_MODEL_TEXT } from '../e2e/sampleModel';
import { DEAD_LAYER, DEAD_LAYER_UNITS, DEAD_MODEL_DIR, DEAD_UNITS, HIGH_LR_SAMPLE, datasetFor, makeDeadFilterModel, writeConfig } from './deadFilterFixtures';
import { capturingErrors } from './views';

const EXTENSION_ID = 'cnn-lens.cnn-lens';
const SCAN = 'cnnLens.scanDeadFilters';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need a workspace folder');
  return folder.uri.fsPath;
}

function scan(arg: unknown): Thenable<ScanReport | undefined> {
  return vscode.commands.executeCommand<ScanReport | undefined>(SCAN, arg);
}

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'CNN Lens');
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Text of a hover result's contents. */
function hoverText(hovers: vscode.Hover[] | undefined): string {
  return (hovers ?? [])
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

/** The line of `"name": "<layer>"` in pretty-printed model.json text (computed independently). */
function declaredLine(text: string, layer: string): number {
  const lines = text.split('\n');
  const topo = lines.findIndex((l) => l.includes('"modelTopology"'));
  const i = lines.findIndex((l, n) => n > topo && new RegExp(`"name":\\s*"${layer}"`).test(l));
  assert.ok(i > 0, `no "name": "${layer}" line`);
  return i;
}

describe('integration: dead filters', function () {
  this.timeout(180_000);
  let model: string;
  let modelUri: vscode.Uri;

  before(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const ws = workspaceDir();
    model = makeDeadFilterModel(path.join(ws, DEAD_MODEL_DIR));
    writeConfig(model, datasetFor(ws));
    modelUri = vscode.Uri.file(model);
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  });

  it('contributes and registers the scan command, the Explorer view and the settings', async function () {
    const commands = await vscode.commands.getCommands(true);
    for (const c of [SCAN, 'cnnLens.showScanReport']) assert.ok(commands.includes(c), `${c} registered`);
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as {
      contributes: { views: { explorer: { id: string }[] }; configuration: { properties: Record<string, unknown> }; walkthroughs: unknown[] };
    };
    assert.ok(pkg.contributes.views.explorer.some((v) => v.id === 'cnnLens.models'));
    for (const s of ['cnnLens.dataset', 'cnnLens.dyingThreshold', 'cnnLens.sampleCount', 'cnnLens.backend', 'cnnLens.workers']) {
      assert.ok(pkg.contributes.configuration.properties[s], `setting ${s}`);
    }
    assert.ok(pkg.contributes.walkthroughs.length > 0);
  });

  it('scans a model with known dead filters and lists them in the Problems panel on the layer line', async function () {
    const { value: report, errors } = await capturingErrors(() => scan(modelUri));
    assert.deepEqual(errors, []);
    assert.ok(report, 'the command returns the scan report');
    const layer = report.layers.find((l) => l.name === DEAD_LAYER);
    assert.ok(layer);
    assert.deepEqual(layer.dead, DEAD_UNITS);
    assert.ok(report.images > 0);

    const diagnostics = await waitFor('dead-filter diagnostics', () => {
      const d = ours(modelUri);
      return d.length ? d : undefined;
    });
    const dead = diagnostics.find((d) => d.message.startsWith(`${DEAD_LAYER}:`));
    assert.ok(dead, `a diagnostic for ${DEAD_LAYER}: ${diagnostics.map((d) => d.message).join(' | ')}`);
    assert.equal(
      dead.message,
      `${DEAD_LAYER}: ${DEAD_UNITS.length} of ${DEAD_LAYER_UNITS} filters never fire on ${report.images.toLocaleString('en-US')} images (dead)`,
    );
    assert.equal(dead.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(dead.source, 'CNN Lens');
    assert.equal((dead.code as { value: string }).value, 'dead-filters');
    const text = readFileSync(model, 'utf8');
    assert.equal(dead.range.start.line, declaredLine(text, DEAD_LAYER), 'on the line declaring the layer');
    assert.equal(text.split('\n')[dead.range.start.line].slice(dead.range.start.character, dead.range.end.character), `"${DEAD_LAYER}"`);
  });

  it('hovering the layer name in model.json shows the dead count and the charts', async function () {
    const text = readFileSync(model, 'utf8');
    const line = declaredLine(text, DEAD_LAYER);
    const character = text.split('\n')[line].indexOf(`"${DEAD_LAYER}"`) + 2;
    await vscode.window.showTextDocument(modelUri);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', modelUri, new vscode.Position(line, character));
    const md = hoverText(hovers);
    assert.match(md, new RegExp(`\\*\\*${DEAD_UNITS.length} dead\\*\\*`), md);
    assert.match(md, /Conv2D/);
    assert.match(md, /!\[firing-rate histogram\]\(data:image\/png;base64,/);
    assert.match(md, /!\[dead filter tiles\]\(data:image\/png;base64,/);
    // Not on a key or a number.
    const none = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', modelUri, new vscode.Position(line, 3));
    assert.doesNotMatch(hoverText(none), /dead/);
  });

  it('hovering the same layer name in a Python string shows it too', async function () {
    const py = path.join(workspaceDir(), 'dead_filter_probe.py');
    writeFileSync(py, `layer = model.get_layer("${DEAD_LAYER}")\nother = "not_a_layer"\n`);
    const doc = await vscode.workspace.openTextDocument(py);
    await vscode.window.showTextDocument(doc);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 26));
    assert.match(hoverText(hovers), new RegExp(`\\*\\*${DEAD_UNITS.length} dead\\*\\*`));
    const other = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(1, 12));
    assert.doesNotMatch(hoverText(other), /dead/);
  });

  it('renders the scan report as Markdown with the per-layer table and images', async function () {
    const uri = await vscode.commands.executeCommand<vscode.Uri>('cnnLens.showScanReport', modelUri);
    assert.ok(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    const text = doc.getText();
    assert.match(text, new RegExp(`\\| ${DEAD_LAYER} \\| Conv2D \\| relu \\| ${DEAD_LAYER_UNITS} \\| ${DEAD_UNITS.length} \\|`));
    assert.match(text, /data:image\/png;base64,/);
  });

  it('drops the results when cnnlens.json changes, and a rescan brings them back', async function () {
    const config = path.join(path.dirname(model), 'cnnlens.json');
    const json = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, JSON.stringify({ ...json, dyingThreshold: 0.02 }, null, 2));
    await waitFor('diagnostics to be cleared', () => ours(modelUri).length === 0, 15_000);
    const report = await scan(modelUri);
    assert.equal(report?.dyingThreshold, 0.02);
    await waitFor('diagnostics again', () => ours(modelUri).length > 0);
  });

  it('scans the high-learning-rate sample: diagnostics on its layers’ lines', async function () {
    const sample = path.join(workspaceDir(), HIGH_LR_SAMPLE);
    if (!existsSync(sample)) this.skip();
    const uri = vscode.Uri.file(sample);
    const report = await scan(uri);
    assert.ok(report);
    const withDead = report.layers.filter((l) => l.dead.length);
    assert.ok(withDead.length > 0, 'the high-LR sample has dead filters');
    const diagnostics = await waitFor('sample diagnostics', () => (ours(uri).length ? ours(uri) : undefined));
    const text = readFileSync(sample, 'utf8');
    for (const l of withDead) {
      const d = diagnostics.find((x) => x.message.startsWith(`${l.name}: `) && x.message.endsWith('(dead)'));
      assert.ok(d, `diagnostic for ${l.name}`);
      const lineText = text.split('\n')[d.range.start.line];
      assert.equal(lineText.slice(d.range.start.character, d.range.end.character), `"${l.name}"`);
    }
  });

  it('changing cnnLens.dyingThreshold re-derives the dying units of the last scan without a rescan', async function () {
    const sample = path.join(workspaceDir(), HIGH_LR_SAMPLE);
    if (!existsSync(sample)) this.skip();
    const uri = vscode.Uri.file(sample);
    const report = await scan(uri);
    assert.ok(report);
    // Threshold 1 (100%): every unit that fires on some but not all images becomes "dying".
    const partly = (r: number) => r > 0 && r < 1;
    const layer = report.layers.find((l) => l.deadApplicable && l.firingRate.some(partly));
    assert.ok(layer, 'a layer with units that fire on some images only');
    const expected = layer.firingRate.filter(partly);
    const dyingOf = (name: string) => ours(uri).find((d) => d.message.startsWith(`${name}: `) && d.message.endsWith('(dying)'));
    const config = vscode.workspace.getConfiguration('cnnLens');
    try {
      await config.update('dyingThreshold', 1, vscode.ConfigurationTarget.Workspace);
      const d = await waitFor(`a dying diagnostic for ${layer.name}`, () => {
        const x = dyingOf(layer.name);
        return x && x.message.includes(`${expected.length.toLocaleString('en-US')} of `) ? x : undefined;
      });
      assert.match(d.message, /fewer than 100%/);
    } finally {
      await config.update('dyingThreshold', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor(`the dying diagnostic of ${layer.name} back to the scan's threshold`, () => {
      const x = dyingOf(layer.name);
      return layer.dying.length === 0 ? !x : x && x.message.includes(`${layer.dying.length.toLocaleString('en-US')} of `);
    });
  });

  it('a corrupt model shows an error, and scanning keeps working', async function () {
    const corrupt = path.join(workspaceDir(), 'corrupt-scan/model.json');
    mkdirSync(path.dirname(corrupt), { recursive: true });
    writeFileSync(corrupt, CORRUPT_MODEL_TEXT);
    writeConfig(corrupt, path.join(path.dirname(model), '..', existsSync(path.join(workspaceDir(), 'data/fashion-mnist-1000')) ? 'data/fashion-mnist-1000' : 'tiny-dataset'));
    const { value, errors } = await capturingErrors(() => scan(vscode.Uri.file(corrupt)));
    assert.equal(value, undefined);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0], /^CNN Lens: scan failed: .*model\.json/);
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, true);
    assert.ok(await scan(modelUri), 'a good model still scans');
  });
});
