/**
 * `cnn-lens embed` as a user runs it (the built bundle in a child process): the documented JSON
 * document, the PNG scatter plot written by --out (file or folder), and bad flags (exit code 2).
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
const idx = path.join(root, 'samples/data/t10k-images-idx3-ubyte.gz');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('embed --json: t-SNE of 300 test images in the documented shape, PNG scatter written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-embed-'));
  try {
    const png = path.join(dir, 'tsne.png');
    const r = cli('embed', good, '--data', idx, '--limit', '300', '--seed', '2', '--iterations', '400', '--out', png, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.method, 'tsne');
    assert.equal(j.layer, 'fc1');
    assert.equal(j.dims, 128);
    assert.equal(j.points.length, 300);
    assert.ok(j.points.every((p: number[]) => p.length === 2 && p.every(Number.isFinite)));
    assert.equal(j.labels.length, 300);
    assert.equal(j.predicted.length, 300);
    assert.equal(j.ids[0], `${idx}#0`);
    assert.ok(j.knnAccuracy > 0.6, `knnAccuracy ${j.knnAccuracy}`);
    assert.ok(j.trustworthiness > 0.8 && j.trustworthiness <= 1);
    assert.equal(j.trustworthinessSample, 300);
    assert.ok(j.seconds > 0);
    assert.deepEqual(j.files, [png]);
    const image = PNG.sync.read(fs.readFileSync(png));
    assert.ok(image.width > 720 && image.height >= 720, `${image.width}×${image.height}`);
    // Points are drawn in the ten Tableau colours: the blue of class 0 appears.
    let blue = 0;
    for (let i = 0; i < image.data.length; i += 4) if (image.data[i] < 120 && image.data[i + 2] > 150 && image.data[i + 1] > 90 && image.data[i + 1] < 150) blue++;
    assert.ok(blue > 50, `class-0 pixels: ${blue}`);

    // --out DIR writes embedding-<method>.png; text output names the figures.
    const t = cli('embed', good, '--data', idx, '--limit', '100', '--method', 'pca', '--out', dir);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /PCA of layer fc1 \(128 values per image\) for 100 images/);
    assert.match(t.stdout, /10-NN accuracy in 2-D: 0\.\d{3}/);
    assert.ok(fs.existsSync(path.join(dir, 'embedding-pca.png')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('embed: bad flags are usage errors (exit code 2) naming the flag', () => {
  const m = cli('embed', good, '--data', idx, '--method', 'mds');
  assert.equal(m.code, 2);
  assert.match(m.stderr, /--method must be one of tsne, pca, umap \(got "mds"\)/);
  const p = cli('embed', good, '--data', idx, '--perplexity', 'abc');
  assert.equal(p.code, 2);
  assert.match(p.stderr, /--perplexity must be a number > 0/);
  const l = cli('embed', good, '--data', idx, '--layer', 'nope', '--limit', '10');
  assert.equal(l.code, 1);
  assert.match(l.stderr, /no layer named "nope"/);
});
