/**
 * `cnn-lens rf` as a user runs it: the esbuild bundle (`bin/cnn-lens.js` → dist/cli.js) in a
 * child process, on the bundled Fashion-MNIST sample. Checks the documented JSON shape, the
 * numbers (by hand: 3×3 valid conv → 2×2 pool → 3×3 valid conv → 2×2 pool), --layer, the text
 * table and the one-line error for an unknown layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const bin = path.join(root, 'bin/cnn-lens.js');
const sample = path.join(root, 'samples/fashion-mnist-cnn/model.json');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('rf --json: every layer of the sample with size, stride and padding [h, w]', () => {
  const r = cli('rf', sample, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(['wasm', 'tensorflow'].includes(j.backend), `backend ${j.backend}`);
  assert.equal(j.model, sample);
  assert.deepEqual(j.input, [28, 28]);
  const rows = j.layers.map((l: { name: string; size: number[]; stride: number[]; padding: number[] }) => [l.name, l.size, l.stride, l.padding]);
  assert.deepEqual(rows, [
    ['conv1_input', [1, 1], [1, 1], [0, 0]],
    ['conv1', [3, 3], [1, 1], [0, 0]],
    ['pool1', [4, 4], [2, 2], [0, 0]],
    ['conv2', [8, 8], [2, 2], [0, 0]],
    ['pool2', [10, 10], [4, 4], [0, 0]],
    // pool2's 5×5 units cover pixels 0–25: the classifier never sees rows/columns 26–27.
    ['flatten', [26, 26], [26, 26], [0, 0]],
    ['fc1', [26, 26], [26, 26], [0, 0]],
    ['predictions', [26, 26], [26, 26], [0, 0]],
  ]);
  for (const l of j.layers) {
    assert.equal(l.aligned, true, l.name);
    assert.equal(typeof l.className, 'string');
    assert.equal(l.note, ['flatten', 'fc1', 'predictions'].includes(l.name) ? 'global' : undefined, l.name);
  }
});

test('rf --layer keeps the named layers in the order asked; the text table names them', () => {
  const j = JSON.parse(cli('rf', sample, '--layer', 'pool2', '--layer', 'conv1', '--json').stdout);
  assert.deepEqual(
    j.layers.map((l: { name: string }) => l.name),
    ['pool2', 'conv1'],
  );
  const text = cli('rf', sample, '--layer', 'conv2');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Receptive fields of .*model\.json \(input 28×28/);
  assert.match(text.stdout, /Layer\s+Class\s+RF size\s+Stride\s+Padding/);
  assert.match(text.stdout, /conv2\s+Conv2D\s+8\s+2\s+0/);
  assert.doesNotMatch(text.stdout, /pool2/);
});

test('rf with an unknown layer: one line naming the model and the layer, exit 1', () => {
  const r = cli('rf', sample, '--layer', 'nope');
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `cnn-lens: ${sample}: no layer named "nope"`);
});
