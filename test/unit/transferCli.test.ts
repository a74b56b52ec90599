/**
 * `cnn-lens train-head` and `cnn-lens fine-tune` as a user runs them (the built CLI in a child
 * process): the documented JSON, the live per-epoch table, exit codes for bad arguments and bad
 * input, and Ctrl-C, which stops at a batch boundary and keeps the best epoch.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, SAMPLES, tmpDir, writeClassFolders } from './transferFixtures';

const bin = path.join(ROOT, 'bin/cnn-lens.js');
const base = path.join(SAMPLES, 'fashion-mnist-base-0-4/model.json');
const cnn = path.join(SAMPLES, 'fashion-mnist-cnn/model.json');
let dir: string;
let data: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  dir = tmpDir();
  data = await writeClassFolders(path.join(dir, 'data'), { classes: [5, 6, 7], perClass: 20 });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('train-head --json: epochs with loss, accuracy, validation and dead units; best; the new folder', () => {
  const out = path.join(dir, 'head-json');
  const r = cli('train-head', base, '--data', data, '--out', out, '--epochs', '3', '--hidden', '8', '--seed', '4', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.mode, 'head');
  assert.equal(j.out, out);
  assert.equal(j.epochs.length, 3);
  for (const e of j.epochs) {
    for (const k of ['loss', 'acc', 'valLoss', 'valAcc', 'seconds']) assert.equal(typeof e[k], 'number', k);
    assert.deepEqual(Object.keys(e.dead).sort(), ['conv1', 'conv2', 'fc1', 'head_dense']);
  }
  assert.ok(j.best.epoch >= 1 && j.best.epoch <= 3);
  assert.equal(j.plan.cutAt, 'fc1');
  assert.deepEqual(j.plan.classNames, ['5_Sandal', '6_Shirt', '7_Sneaker']);
  assert.equal(j.plan.trainableParams, 128 * 8 + 8 + 8 * 3 + 3);
  assert.equal(j.plan.options.seed, 4);
  assert.ok(fs.existsSync(path.join(out, 'model.json')));
});

test('train-head text mode prints the plan and one table row per epoch', () => {
  const r = cli('train-head', base, '--data', data, '--out', path.join(dir, 'head-text'), '--epochs', '2', '--cut-at', 'flatten');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /New head on "flatten" of .*fashion-mnist-base-0-4\/model\.json/);
  assert.match(r.stdout, /3 classes \(5_Sandal, 6_Shirt, 7_Sneaker\)/);
  assert.match(r.stdout, /4,803 trainable, 18,816 frozen parameters/);
  assert.match(r.stdout, /Epoch +Loss +Acc +Val loss +Val acc +Time/);
  assert.match(r.stdout, /^ +1 +\d\.\d{4} +\d+\.\d% +\d\.\d{4} +\d+\.\d% +\d+\.\d s +\*? conv1 \d+, conv2 \d+$/m);
  assert.match(r.stdout, /^ +2 /m);
  assert.match(r.stdout, /Saved to .*head-text/);
});

test('fine-tune --json reports the source model on the same validation images', () => {
  const r = cli('fine-tune', cnn, '--data', data, '--out', path.join(dir, 'tuned'), '--unfreeze', '1', '--epochs', '1', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.mode, 'fine-tune');
  assert.deepEqual(j.plan.layers.filter((l: { trainable: boolean }) => l.trainable).map((l: { name: string }) => l.name), ['predictions']);
  assert.equal(typeof j.before.valAcc, 'number');
  assert.equal(j.epochs.length, 1);
});

test('bad arguments exit 2, bad input exits 1 with one line naming the problem; nothing is written', () => {
  let r = cli('train-head', base, '--data', data);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /train-head needs --out DIR/);
  r = cli('train-head', base, '--data', data, '--out', path.join(dir, 'x'), '--unfreeze', '2');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--unfreeze is an option of fine-tune, not of train-head/);
  r = cli('fine-tune', cnn, '--data', data, '--out', path.join(dir, 'x'), '--learning-rate', 'fast');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--learning-rate must be a number > 0/);
  fs.mkdirSync(path.join(dir, 'exists'));
  r = cli('train-head', base, '--data', data, '--out', path.join(dir, 'exists'));
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `cnn-lens: ${path.join(dir, 'exists')}: already exists; the new model needs a new folder (nothing is ever overwritten)\n`);
  r = cli('train-head', base, '--data', data, '--out', path.join(dir, 'x'), '--cut-at', 'predictions');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothing remains after layer "predictions"/);
  assert.equal(fs.existsSync(path.join(dir, 'x')), false);
});

test('Ctrl-C stops at a batch boundary, saves the best epoch so far and exits 130', async () => {
  const out = path.join(dir, 'interrupted');
  const child = spawn(process.execPath, [bin, 'train-head', base, '--data', data, '--out', out, '--epochs', '100000', '--patience', '0', '--learning-rate', '0.0001'], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Interrupt once the first epoch row is out.
      if (/^ +1 /m.test(stdout) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopped after epoch \d+; the best epoch \(\d+\) was saved to .*interrupted/);
  assert.match(stdout, /Stopped after \d+ epochs?/);
  assert.ok(fs.existsSync(path.join(out, 'model.json')));
  const config = JSON.parse(fs.readFileSync(path.join(out, 'cnnlens.json'), 'utf8'));
  assert.equal(config.trainedFrom.metrics.cancelled, true);
});
