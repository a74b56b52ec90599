/**
 * The `cnn-lens` command as a user runs it: the esbuild bundle (`bin/cnn-lens.js` → dist/cli.js)
 * in a child process, on the bundled samples. Checks the documented JSON shapes, exit codes and
 * one-line errors, and the files written by --out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';

const root = path.resolve(__dirname, '../../..');
const bin = path.join(root, 'bin/cnn-lens.js');
const good = path.join(root, 'samples/fashion-mnist-cnn/model.json');
const highLr = path.join(root, 'samples/fashion-mnist-cnn-high-lr/model.json');
const pngs = path.join(root, 'samples/data/fashion-mnist-1000');
const idx = path.join(root, 'samples/data/t10k-images-idx3-ubyte.gz');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-cli-'));
}

test('summary --json gives the documented shape with the sample CNN’s parameters and FLOPs', () => {
  const r = cli('summary', good, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(['wasm', 'tensorflow'].includes(j.backend), `backend ${j.backend}`);
  const names = j.layers.map((l: { name: string }) => l.name);
  assert.deepEqual(names, ['conv1_input', 'conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'fc1', 'predictions'].filter((n) => names.includes(n)));
  const byName = Object.fromEntries(j.layers.map((l: { name: string }) => [l.name, l]));
  // Parameters by hand: 3·3·1·32+32, 3·3·32·64+64, 1600·128+128, 128·10+10.
  assert.equal(byName.conv1.params, 320);
  assert.equal(byName.conv2.params, 18496);
  assert.equal(byName.fc1.params, 204928);
  assert.equal(byName.predictions.params, 1290);
  assert.equal(j.totalParams, 320 + 18496 + 204928 + 1290);
  assert.deepEqual(byName.conv1.outputShape, [null, 26, 26, 32]);
  // Multiply-adds ×2 plus one bias add per output (the tf.profiler convention of RF_RESULTS.md).
  assert.equal(byName.conv1.flops, 2 * 26 * 26 * 32 * 9 + 26 * 26 * 32);
  assert.equal(byName.conv2.flops, 2 * 11 * 11 * 64 * 288 + 11 * 11 * 64);
  assert.equal(byName.fc1.flops, 2 * 1600 * 128 + 128);
  assert.equal(byName.predictions.flops, 2 * 128 * 10 + 10);
  assert.ok(j.totalFlops >= 2 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 1600 * 128 + 1280));
});

test('summary text output names the backend and totals', () => {
  const r = cli('summary', good);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /backend (wasm|tensorflow)/);
  assert.match(r.stdout, /Total params: 225,034/);
});

test('scan --json: the high-learning-rate sample has dead conv filters, the good sample none', () => {
  type Layer = { name: string; units: number; dead: number[]; dying: number[]; firingRate: number[] };
  const deadConv = (layers: Layer[]) => layers.filter((l) => l.name.startsWith('conv')).reduce((a, l) => a + l.dead.length, 0);
  const bad = cli('scan', highLr, '--data', pngs, '--json');
  assert.equal(bad.code, 0, bad.stderr);
  const jb = JSON.parse(bad.stdout);
  assert.equal(jb.images, 1000);
  for (const key of ['backend', 'images', 'seconds', 'layers']) assert.ok(key in jb, key);
  for (const l of jb.layers as Layer[]) {
    assert.equal(l.firingRate.length, l.units);
    for (const u of l.dead) assert.equal(l.firingRate[u], 0);
    for (const u of l.dying) assert.ok(l.firingRate[u] > 0 && l.firingRate[u] < 0.01);
  }
  // Training with a far too high learning rate killed most conv filters (samples/README.md).
  assert.ok(deadConv(jb.layers) >= 20, `high-lr model: ${deadConv(jb.layers)} dead conv filters`);

  const ok = cli('scan', good, '--data', pngs, '--json');
  assert.equal(ok.code, 0, ok.stderr);
  const jg = JSON.parse(ok.stdout);
  assert.equal(deadConv(jg.layers), 0, 'the well-trained model has no dead conv filters');
  const total = (j: { layers: Layer[] }) => j.layers.reduce((a, l) => a + l.dead.length, 0);
  assert.ok(total(jb) > 2 * total(jg), `dead units: high-lr ${total(jb)}, good ${total(jg)}`);
});

test('scan --limit and an IDX dataset (labels found beside the images)', () => {
  const r = cli('scan', good, '--data', idx, '--limit', '300', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).images, 300);
});

test('evaluate --json: the good sample reaches at least 88% on the 10k test set', () => {
  const r = cli('evaluate', good, '--data', idx, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.images, 10000);
  assert.ok(j.accuracy >= 0.88, `accuracy ${j.accuracy}`);
  assert.equal(j.confusion.length, 10);
  const total = j.confusion.flat().reduce((a: number, b: number) => a + b, 0);
  assert.equal(total, 10000);
  const diag = j.confusion.reduce((a: number, row: number[], i: number) => a + row[i], 0);
  assert.equal(diag / total, j.accuracy);
});

test('activations --out writes one non-blank PNG grid per layer', () => {
  const out = tmpDir();
  const image = path.join(pngs, fs.readdirSync(pngs).sort()[0]);
  const first = path.join(image, fs.readdirSync(image).sort()[0]);
  const r = cli('activations', good, '--image', first, '--layer', 'conv1', '--layer', 'conv2', '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(
    j.layers.map((l: { name: string }) => l.name),
    ['conv1', 'conv2'],
  );
  assert.equal(j.layers[0].mean.length, 32);
  assert.equal(j.files.length, 2);
  for (const f of j.files) {
    const png = PNG.sync.read(fs.readFileSync(f));
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) colours.add((png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2]);
    assert.ok(colours.size > 20, `${f} has only ${colours.size} colours`);
  }
});

test('filters --json flags scores for every filter; --out writes the tiles', () => {
  const out = tmpDir();
  const r = cli('filters', good, '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(
    j.layers.map((l: { name: string }) => l.name),
    ['conv1', 'conv2'],
  );
  assert.equal(j.layers[0].roughness.length, 32);
  // conv1's 3×3×1 kernels are judged as a layer only; conv2's 3×3×32 ones one by one.
  assert.equal(j.layers[0].perFilterTest, false);
  assert.deepEqual(j.layers[0].noisy, []);
  assert.ok(j.layers[0].layerStructureZ < -1.96, `conv1 layer z ${j.layers[0].layerStructureZ}`);
  assert.equal(j.layers[1].perFilterTest, true);
  assert.ok(j.layers[1].noisy.length < 16, `good model: ${j.layers[1].noisy.length} of 64 conv2 filters noisy`);
  assert.deepEqual(j.layers[0].kernelSize, [3, 3]);
  assert.ok(fs.existsSync(path.join(out, 'filters-conv1.png')));
});

test('report writes a self-contained HTML page and the JSON', () => {
  const out = tmpDir();
  const r = cli('report', highLr, '--data', pngs, '--limit', '200', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /Dead and dying units/);
  assert.doesNotMatch(html, /(src|href)="https?:/, 'no remote resources');
  assert.ok((html.match(/data:image\/png;base64,/g) ?? []).length >= 4);
  const j = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
  assert.equal(j.scan.images, 200);
  assert.ok(j.summary.layers.length > 5);
  assert.deepEqual(fs.readdirSync(out).sort(), ['report.html', 'report.json'], 'no temporary files left');
});

test('errors: one line naming the file, exit 1; bad arguments exit 2', () => {
  const missing = cli('summary', path.join(root, 'no/such/model.json'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no[/\\]such[/\\]model\.json/);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.doesNotMatch(missing.stderr, /\bat .*\.js:\d+/);

  const verbose = cli('summary', path.join(root, 'no/such/model.json'), '--verbose');
  assert.equal(verbose.code, 1);
  assert.match(verbose.stderr, /\bat .*:\d+/, 'stack with --verbose');

  // Broken JSON that V8 reports without a position: the bundle locates it with jsonc-parser.
  const broken = path.join(tmpDir(), 'model.json');
  fs.writeFileSync(broken, '{\n  "format": "layers-model",\n  "modelTopology": tru\n}\n');
  const bad = cli('summary', broken);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim(), `cnn-lens: ${broken}: model.json is not valid JSON: unexpected "t" at line 3, column 20`);

  assert.equal(cli('summary').code, 2);
  assert.equal(cli('frobnicate', good).code, 2);
  assert.equal(cli('scan', good, '--limit', 'ten').code, 2);
  assert.equal(cli('summary', good, '--no-such-flag').code, 2);
  assert.equal(cli('summary', good, '--backend', 'gpu').code, 2);
  assert.equal(cli('report', good).code, 2);
});

test('a forced backend is used and reported', () => {
  const r = cli('summary', good, '--json', '--backend', 'cpu');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).backend, 'cpu');
  assert.match(r.stderr, /slower/, 'the cpu backend comes with a warning');
  const t = cli('summary', good, '--json', '--backend', 'tensorflow');
  if (t.code !== 0) assert.match(t.stderr, /tfjs-node/, 'a missing tfjs-node is named');
});
