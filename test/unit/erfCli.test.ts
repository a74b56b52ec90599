/**
 * `cnn-lens erf` as a user runs it: the esbuild bundle (bin/cnn-lens.js → dist/cli.js) in a child
 * process (engine in a worker thread) on the bundled Fashion-MNIST samples. Checks the JSON
 * document, the files --out writes (PNG with the theoretical box drawn, JSON with the heat map),
 * the dead-unit case, the per-layer table and argument errors.
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

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('erf --json: the documented document, without the heat map; radii within the theoretical field', () => {
  const r = cli('erf', good, '--layer', 'conv2', '--data', pngs, '--limit', '16', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(['wasm', 'tensorflow'].includes(j.backend));
  assert.equal(j.layer, 'conv2');
  assert.equal(j.channel, null);
  assert.deepEqual(j.unit, [5, 5]);
  assert.deepEqual(j.outputSize, [11, 11]);
  assert.deepEqual(j.inputSize, [28, 28]);
  assert.equal(j.images, 16);
  assert.equal(j.imagesUsed.length, 16);
  assert.equal(j.source, pngs);
  assert.deepEqual(j.files, []);
  assert.equal(j.heatmap, undefined, 'no heat map in --json');
  assert.equal(j.meanInput, undefined);
  assert.deepEqual(j.theoretical, { size: [8, 8], stride: [2, 2], padding: [0, 0], box: [10, 10, 17, 17] });
  assert.deepEqual(j.radii.map((x: { fraction: number }) => x.fraction), [0.5, 0.9]);
  const [r50, r90] = j.radii.map((x: { radius: number }) => x.radius);
  assert.ok(r50 > 0 && r50 < r90 && r90 < 4 * Math.SQRT2, `radii ${r50}, ${r90}`);
  assert.ok(j.centre[0] >= 10 && j.centre[0] <= 17 && j.centre[1] >= 10 && j.centre[1] <= 17);
});

test('erf --out writes erf-<layer>.png (heat map, theoretical box) and erf-<layer>.json atomically', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-erf-'));
  const r = cli('erf', good, '--layer', 'pool1', '--data', pngs, '--limit', '8', '--unit', '3,4', '--channel', '7', '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const png = path.join(out, 'erf-pool1.png');
  const json = path.join(out, 'erf-pool1.json');
  assert.deepEqual(j.files, [png, json]);
  assert.deepEqual(fs.readdirSync(out).sort(), ['erf-pool1.json', 'erf-pool1.png'], 'no temporary files left');
  const file = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.equal(file.heatmap.length, 28 * 28);
  assert.equal(Math.max(...file.heatmap), 1);
  assert.deepEqual(file.unit, [3, 4]);
  assert.equal(file.channel, 7);
  assert.deepEqual(file.radii, j.radii);
  // Unit (3, 4) of pool1 (RF 4, stride 2): input rows 6…9, columns 8…11.
  assert.deepEqual(file.theoretical.box, [6, 8, 9, 11]);
  file.heatmap.forEach((v: number, p: number) => {
    const y = Math.floor(p / 28);
    const x = p % 28;
    if (y < 6 || y > 9 || x < 8 || x > 11) assert.equal(v, 0, `heat outside the box at (${y}, ${x})`);
  });
  const image = PNG.sync.read(fs.readFileSync(png));
  assert.equal(image.width, 280, '28 px enlarged 10×');
  assert.equal(image.height, 280);
  const rgb = (x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3));
  // The box's outline: top edge at row 6·10, left edge at column 8·10, in red.
  assert.deepEqual(rgb(95, 60), [255, 64, 64]);
  assert.deepEqual(rgb(80, 75), [255, 64, 64]);
  assert.deepEqual(rgb(119, 99), [255, 64, 64], 'bottom-right corner: last pixel of column 11 and row 9');
  fs.rmSync(out, { recursive: true, force: true });
});

test('erf on a dead conv1 filter of the high-learning-rate sample: no radii, a note, exit 0', () => {
  const report = JSON.parse(fs.readFileSync(path.join(root, 'samples/train/training-report.json'), 'utf8'));
  const dead: number[] = report.runs.find((x: { folder: string }) => x.folder === 'fashion-mnist-cnn-high-lr').deadUnits.find((d: { layer: string }) => d.layer === 'conv1').deadIndices;
  const r = cli('erf', highLr, '--layer', 'conv1', '--channel', String(dead[0]), '--data', pngs, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.images, 32, 'default --limit 32');
  assert.equal(j.zeroGradientImages, 32);
  assert.deepEqual(j.radii, [{ fraction: 0.5, radius: null }, { fraction: 0.9, radius: null }], 'NaN radii appear as null in JSON');
  assert.deepEqual(j.centre, [null, null]);
  assert.match(j.note, /zero gradient on all 32 images/);
  const text = cli('erf', highLr, '--layer', 'conv1', '--channel', String(dead[0]), '--data', pngs, '--limit', '8');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /ERF radius 50%\s+-/);
  assert.match(text.stdout, /Note: .*dead unit/);
});

test('erf without --layer: the table of ERF radii of every spatial layer', () => {
  const r = cli('erf', good, '--image', path.join(pngs, '5_Sandal/00008.png'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.images, 1);
  assert.deepEqual(
    j.layers.map((l: { layer: string; theoreticalSize: number[] }) => [l.layer, l.theoreticalSize]),
    [
      ['conv1', [3, 3]],
      ['pool1', [4, 4]],
      ['conv2', [8, 8]],
      ['pool2', [10, 10]],
    ],
  );
  const text = cli('erf', good, '--data', pngs, '--limit', '8');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Layer\s+Class\s+Output\s+RF size\s+ERF r50%\s+ERF r90%/);
  assert.match(text.stdout, /conv2\s+Conv2D\s+11\s+8\s+\d+\.\d\d\s+\d+\.\d\d/);
});

test('erf argument errors: exit 2 for usage, 1 naming the layer for a bad channel', () => {
  const both = cli('erf', good, '--layer', 'conv1', '--image', 'x.png', '--data', pngs);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--image IMG or --data DATA, not both/);
  const unit = cli('erf', good, '--layer', 'conv1', '--unit', '3');
  assert.equal(unit.code, 2);
  assert.match(unit.stderr, /--unit must be Y,X/);
  const noLayer = cli('erf', good, '--channel', '1');
  assert.equal(noLayer.code, 2);
  assert.match(noLayer.stderr, /--channel and --unit need --layer/);
  const channel = cli('erf', good, '--layer', 'conv1', '--channel', '40', '--data', pngs, '--limit', '1');
  assert.equal(channel.code, 1);
  assert.match(channel.stderr, /model\.json: layer "conv1" has 32 channels \(0…31\); there is no channel 40/);
});
