/**
 * Model loading: every supported format loads with the right layers and shapes, reproduces
 * the predictions that test/fixtures/models/make_keras_fixtures.py computed with numpy, exposes
 * intermediate outputs, and every kind of bad file fails with a one-line message naming the
 * file and the problem, without leaking tensors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync } from 'fflate';
import { initBackend } from '../../src/engine/backend';
import { type InspectableModel, ModelLoadError } from '../../src/engine/model/inspectableModel';
import { isModelFileName, loadModel, MODEL_FILE_PATTERNS } from '../../src/engine/io/models';
import { loadH5wasm } from '../../src/engine/io/models/hdf5';
import { jsonErrorLocation } from '../../src/engine/io/jsonSyntax';
import { decodeWeights } from '../../src/engine/io/models/tfjsWeights';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/models');
const fixture = (name: string): string => path.join(FIXTURES, name);

interface TensorEntry {
  shape: number[];
  values: number[];
}
interface Expected {
  input: TensorEntry;
  outputs: Record<string, TensorEntry>;
}
const EXPECTED: Record<string, Expected> = JSON.parse(fs.readFileSync(fixture('expected.json'), 'utf8'));

const TOLERANCE = 1e-4;
let tmpRoot: string;

before(async () => {
  await initBackend();
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-modelio-'));
});

after(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

let tmpCount = 0;
function tmpDir(): string {
  const dir = path.join(tmpRoot, String(tmpCount++));
  fs.mkdirSync(dir);
  return dir;
}

function copyDir(from: string, to: string, skip: string[] = []): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) if (!skip.includes(f)) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

function memory(): { tensors: number; variables: number } {
  return { tensors: tf.memory().numTensors, variables: Object.keys(tf.engine().registeredVariables).length };
}

/** Checks the named outputs against the numpy reference, then disposes what `run` returned. */
function checkOutputs(model: InspectableModel, expected: Expected): void {
  const x = tf.tensor4d(expected.input.values, expected.input.shape as [number, number, number, number]);
  const names = Object.keys(expected.outputs);
  const outs = model.run(x, names);
  try {
    assert.equal(outs.length, names.length);
    names.forEach((name, i) => {
      const want = expected.outputs[name];
      assert.deepEqual(outs[i].shape, want.shape, `shape of ${name}`);
      const got = outs[i].dataSync();
      let maxErr = 0;
      for (let k = 0; k < want.values.length; k++) maxErr = Math.max(maxErr, Math.abs(got[k] - want.values[k]));
      assert.ok(maxErr <= TOLERANCE, `${name}: max abs error ${maxErr} > ${TOLERANCE}`);
    });
  } finally {
    outs.forEach((t) => t.dispose());
    x.dispose();
  }
}

/** Loads, runs `check`, disposes, and verifies that memory is back to where it was. */
async function withModel(file: string, check: (m: InspectableModel) => void | Promise<void>): Promise<void> {
  const baseline = memory();
  const model = await loadModel(file);
  try {
    await check(model);
  } finally {
    model.dispose();
  }
  assert.deepEqual(memory(), baseline, 'tensors/variables after load + dispose');
}

/** The load must fail with a one-line ModelLoadError naming the file and matching every pattern. */
async function expectLoadError(file: string, ...patterns: RegExp[]): Promise<string> {
  const baseline = memory();
  let message = '';
  await assert.rejects(loadModel(file), (err: unknown) => {
    assert.ok(err instanceof ModelLoadError, `expected a ModelLoadError, got ${String(err)}`);
    message = err.message;
    if (process.env.SHOW_LOAD_ERRORS) console.log(`      ${message}`);
    assert.ok(message.startsWith(`${file}: `), `message should start with the file: ${message}`);
    assert.ok(!message.includes('\n'), `message should be one line: ${message}`);
    assert.ok(!/\n\s+at /.test(message), 'no stack in the message');
    for (const p of patterns) assert.match(message, p);
    return true;
  });
  assert.deepEqual(memory(), baseline, `tensors/variables after the failed load of ${path.basename(file)}`);
  return message;
}

function layerSummary(model: InspectableModel): string[] {
  return model.layers.map((l) => `${l.name}:${l.className}:${JSON.stringify(l.outputShape)}`);
}

const SEQUENTIAL_SHAPES = [
  'InputLayer:[null,12,12,1]',
  'conv2d:Conv2D:[null,10,10,4]',
  'max_pooling2d:MaxPooling2D:[null,5,5,4]',
  'conv2d_1:Conv2D:[null,3,3,6]',
  'batch_normalization:BatchNormalization:[null,3,3,6]',
  'flatten:Flatten:[null,54]',
  'dense:Dense:[null,3]',
];

function checkSequentialCnn(model: InspectableModel): void {
  assert.deepEqual(model.input, { height: 12, width: 12, channels: 1 });
  const summary = layerSummary(model);
  assert.ok(summary[0].endsWith(SEQUENTIAL_SHAPES[0]), summary[0]);
  assert.deepEqual(summary.slice(1), SEQUENTIAL_SHAPES.slice(1));
  assert.equal(model.outputLayer, 'dense');
  const conv = model.layers.find((l) => l.name === 'conv2d')!;
  assert.equal(conv.activation, 'relu');
  assert.deepEqual(conv.weights.map((w) => [w.name, w.shape]), [['kernel', [3, 3, 1, 4]], ['bias', [4]]]);
  const bn = model.layers.find((l) => l.name === 'batch_normalization')!;
  assert.deepEqual(bn.weights.map((w) => w.name), ['gamma', 'beta', 'moving_mean', 'moving_variance']);
  assert.deepEqual(bn.inbound, ['conv2d_1']);
  assert.equal(model.layers.find((l) => l.name === 'dense')!.activation, 'softmax');
  const weights = model.layerWeights('conv2d_1');
  assert.deepEqual(weights.map((w) => w.shape), [[3, 3, 4, 6], [6]]);
}

describe('loadModel: formats', () => {
  test('Keras 2 .h5 Sequential CNN', async () => {
    const file = fixture('keras2_sequential.h5');
    await withModel(file, (m) => {
      assert.equal(m.format, 'keras-h5');
      assert.ok(m.layersModel);
      checkSequentialCnn(m);
      checkOutputs(m, EXPECTED['keras2_sequential.h5']);
    });
  });

  test('Keras 2 .h5 Functional model with an Add branch (compiled: training config ignored)', async () => {
    await withModel(fixture('keras2_functional.h5'), (m) => {
      assert.equal(m.format, 'keras-h5');
      assert.deepEqual(m.input, { height: 8, width: 8, channels: 3 });
      const add = m.layers.find((l) => l.name === 'add')!;
      assert.equal(add.className, 'Add');
      assert.deepEqual(add.inbound, ['conv2d', 'conv2d_1']);
      assert.deepEqual(add.inputShapes, [[null, 8, 8, 4], [null, 8, 8, 4]]);
      assert.equal(m.layers.find((l) => l.name === 'activation')!.activation, 'relu');
      assert.deepEqual(m.layers.find((l) => l.name === 'global_average_pooling2d')!.outputShape, [null, 4]);
      checkOutputs(m, EXPECTED['keras2_functional.h5']);
    });
  });

  test('Keras 3 .keras Sequential CNN', async () => {
    await withModel(fixture('keras3_sequential.keras'), (m) => {
      assert.equal(m.format, 'keras-v3');
      checkSequentialCnn(m);
      checkOutputs(m, EXPECTED['keras3_sequential.keras']);
    });
  });

  test('Keras 3 .keras Functional model: Concatenate branch, custom layer names, class-named weight paths', async () => {
    await withModel(fixture('keras3_functional.keras'), (m) => {
      assert.equal(m.format, 'keras-v3');
      assert.equal(m.name, 'branchy');
      assert.deepEqual(layerSummary(m), [
        'image:InputLayer:[null,8,8,3]',
        'stem:Conv2D:[null,8,8,4]',
        'branch:Conv2D:[null,8,8,2]',
        'pool:MaxPooling2D:[null,8,8,4]',
        'merge:Concatenate:[null,8,8,6]',
        'bn:BatchNormalization:[null,8,8,6]',
        'gap:GlobalAveragePooling2D:[null,6]',
        'head:Dense:[null,3]',
      ]);
      assert.deepEqual(m.layers.find((l) => l.name === 'merge')!.inbound, ['branch', 'pool']);
      assert.equal(m.outputLayer, 'head');
      checkOutputs(m, EXPECTED['keras3_functional.keras']);
    });
  });

  test('Keras 3 .keras Functional model around a nested Sequential backbone', async () => {
    await withModel(fixture('keras3_nested.keras'), (m) => {
      assert.deepEqual(layerSummary(m), [
        'image:InputLayer:[null,8,8,3]',
        'backbone:Sequential:[null,4,4,3]',
        'gap:GlobalAveragePooling2D:[null,3]',
        'head:Dense:[null,2]',
      ]);
      const backbone = m.layers.find((l) => l.name === 'backbone')!;
      assert.deepEqual(backbone.inbound, ['image']);
      assert.deepEqual(backbone.weights.map((w) => [w.name, w.shape]), [['kernel', [3, 3, 3, 3]], ['bias', [3]]]);
      // The nested model's output is reachable as an intermediate output.
      checkOutputs(m, EXPECTED['keras3_nested.keras']);
    });
  });

  test('TF.js Layers model.json with two weight shards', async () => {
    await withModel(fixture('tfjs_layers/model.json'), (m) => {
      assert.equal(m.format, 'tfjs-layers');
      checkSequentialCnn(m);
      checkOutputs(m, EXPECTED['tfjs_layers/model.json']);
    });
  });

  test('TF.js Layers model.json with uint8-quantized weights', async () => {
    await withModel(fixture('tfjs_layers_uint8/model.json'), (m) => {
      checkSequentialCnn(m);
      checkOutputs(m, EXPECTED['tfjs_layers_uint8/model.json']);
    });
  });

  test('TF.js Graph model.json: nodes as layers, intermediate nodes reachable', async () => {
    await withModel(fixture('tfjs_graph/model.json'), (m) => {
      assert.equal(m.format, 'tfjs-graph');
      assert.equal(m.layersModel, undefined);
      assert.deepEqual(m.input, { height: 12, width: 12, channels: 1 });
      const P = 'StatefulPartitionedCall/sequential/';
      assert.deepEqual(
        m.layers.map((l) => [l.name.replace(P, ''), l.className, l.outputShape]),
        [
          ['conv2d_input', 'Placeholder', [null, 12, 12, 1]],
          ['conv2d/Conv2D', 'Conv2D', [null, 10, 10, 4]],
          ['conv2d/BiasAdd', 'BiasAdd', [null, 10, 10, 4]],
          ['conv2d/Relu', 'Relu', [null, 10, 10, 4]],
          ['max_pooling2d/MaxPool', 'MaxPool', [null, 5, 5, 4]],
          ['conv2d_1/Relu', '_FusedConv2D', [null, 3, 3, 6]],
          ['flatten/Reshape', 'Reshape', [null, 54]],
          ['dense/MatMul', 'MatMul', [null, 3]],
          ['dense/BiasAdd', 'BiasAdd', [null, 3]],
          ['dense/Softmax', 'Softmax', [null, 3]],
        ],
      );
      assert.ok(!m.layers.some((l) => l.className === 'Const' || l.className === 'Identity'));
      // The signature's output is an Identity; the output layer is what it passes through.
      assert.equal(m.outputLayer, `${P}dense/Softmax`);
      const fused = m.layers.find((l) => l.name === `${P}conv2d_1/Relu`)!;
      assert.equal(fused.activation, 'relu');
      assert.deepEqual(fused.weights.map((w) => [w.name, w.shape]), [['kernel', [3, 3, 4, 6]], ['bias', [6]]]);
      assert.deepEqual(fused.inbound, [`${P}max_pooling2d/MaxPool`]);
      assert.deepEqual(fused.config.padding, 'SAME');
      assert.deepEqual(fused.config.strides, [1, 2, 2, 1]);
      assert.equal(m.layers.find((l) => l.name === `${P}conv2d/Relu`)!.activation, 'relu');
      assert.deepEqual(m.layerWeights(`${P}conv2d/Conv2D`).map((t) => t.shape), [[3, 3, 1, 4]]);
      checkOutputs(m, EXPECTED['tfjs_graph/model.json']);

      // Asking for the input node returns (a copy of) the input.
      const x = tf.ones([1, 12, 12, 1]) as tf.Tensor4D;
      const [inp, relu] = m.run(x, ['conv2d_input', `${P}conv2d/Relu`]);
      assert.deepEqual(inp.shape, [1, 12, 12, 1]);
      assert.deepEqual(relu.shape, [1, 10, 10, 4]);
      tf.dispose([x, inp, relu]);
    });
  });

  test('Keras 3 legacy .h5 (Keras 3 config in model_config) is translated like a .keras config', async () => {
    const file = path.join(tmpDir(), 'keras3_legacy.h5');
    const keras3Config = new TextDecoder().decode(unzipSync(fs.readFileSync(fixture('keras3_sequential.keras')))['config.json']);
    // Same architecture and layer names as the Keras 2 file, so its weights fit.
    await editH5Config(fixture('keras2_sequential.h5'), file, () => keras3Config);
    await withModel(file, (m) => {
      assert.equal(m.format, 'keras-h5');
      checkSequentialCnn(m);
      checkOutputs(m, EXPECTED['keras2_sequential.h5']);
    });
  });

  test('weight decoding: float16 and uint16 quantization, int32', () => {
    const buf = new ArrayBuffer(2 * 3 + 2 * 2 + 4);
    const view = new DataView(buf);
    [0x3c00, 0xc000, 0x3800].forEach((h, i) => view.setUint16(2 * i, h, true)); // 1, -2, 0.5
    [0, 65535].forEach((q, i) => view.setUint16(6 + 2 * i, q, true));
    view.setInt32(10, -7, true);
    const decoded = decodeWeights('m.json', {
      data: buf,
      specs: [
        { name: 'a', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
        { name: 'b', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', min: -1, scale: 2 / 65535 } },
        { name: 'c', shape: [1], dtype: 'int32' },
      ],
    });
    assert.deepEqual([...decoded[0].data], [1, -2, 0.5]);
    assert.ok(Math.abs(decoded[1].data[0] + 1) < 1e-6 && Math.abs(decoded[1].data[1] - 1) < 1e-6);
    assert.deepEqual([...decoded[2].data], [-7]);
    assert.ok(decoded[2].data instanceof Int32Array);
  });

  test('format is sniffed from the content when the extension says nothing', async () => {
    const dir = tmpDir();
    fs.copyFileSync(fixture('keras3_sequential.keras'), path.join(dir, 'model.bin'));
    fs.copyFileSync(fixture('keras2_sequential.h5'), path.join(dir, 'weights.model'));
    await withModel(path.join(dir, 'model.bin'), (m) => assert.equal(m.format, 'keras-v3'));
    await withModel(path.join(dir, 'weights.model'), (m) => assert.equal(m.format, 'keras-h5'));
  });

  test('concurrent loads are serialised and all succeed', async () => {
    const baseline = memory();
    const models = await Promise.all([
      loadModel(fixture('keras2_sequential.h5')),
      loadModel(fixture('keras3_functional.keras')),
      loadModel(fixture('tfjs_graph/model.json')),
    ]);
    assert.deepEqual(models.map((m) => m.format), ['keras-h5', 'keras-v3', 'tfjs-graph']);
    models.forEach((m) => m.dispose());
    assert.deepEqual(memory(), baseline);
  });

  test('MODEL_FILE_PATTERNS covers every format', () => {
    const formats = new Set(MODEL_FILE_PATTERNS.flatMap((p) => p.formats));
    assert.deepEqual([...formats].sort(), ['keras-h5', 'keras-v3', 'tfjs-graph', 'tfjs-layers']);
    assert.ok(isModelFileName('/a/b/Model.H5'));
    assert.ok(isModelFileName('net.keras'));
    assert.ok(!isModelFileName('notes.txt'));
  });
});

/** Rewrites the model_config attribute of a copy of a Keras .h5 file. */
async function editH5Config(src: string, dest: string, edit: (config: string) => string): Promise<void> {
  fs.copyFileSync(src, dest);
  const h5 = await loadH5wasm();
  const f = new h5.File(dest, 'a');
  try {
    const config = String(f.attrs['model_config'].value);
    f.delete_attribute('model_config');
    f.create_attribute('model_config', edit(config));
  } finally {
    f.close();
  }
}

/** Rewrites (or removes, when `edit` returns undefined) a member of a copy of a .keras zip. */
function editKerasZip(src: string, dest: string, member: string, edit: (text: string) => string | undefined): void {
  const entries = unzipSync(fs.readFileSync(src));
  const edited = edit(new TextDecoder().decode(entries[member]));
  if (edited === undefined) delete entries[member];
  else entries[member] = new TextEncoder().encode(edited);
  fs.writeFileSync(dest, zipSync(entries, { level: 0 }));
}

function editJson(src: string, dest: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(src, 'utf8'));
  edit(json);
  fs.writeFileSync(dest, JSON.stringify(json));
}

describe('loadModel: bad inputs', () => {
  test('missing model.json', async () => {
    const file = path.join(tmpDir(), 'model.json');
    await expectLoadError(file, /model\.json not found/);
  });

  test('model.json that is not valid JSON says so and where', async () => {
    const file = path.join(tmpDir(), 'model.json');
    const line3 = '  "modelTopology": {"class_name": "Sequential",, "config": {}}';
    fs.writeFileSync(file, `{\n  "format": "layers-model",\n${line3}\n}\n`);
    const column = line3.indexOf(',,') + 2;
    await expectLoadError(file, /model\.json is not valid JSON/, new RegExp(`line 3, column ${column}\\b`));
    // A file that stops early.
    fs.writeFileSync(file, '{"format": "graph-model", "modelTopology": {"node": [');
    await expectLoadError(file, /not valid JSON: the text ends early at line 1/);
  });

  test('the JSON error locator finds the first bad character, with or without a position from V8', () => {
    const at = (text: string) => {
      try {
        JSON.parse(text);
      } catch (e) {
        return jsonErrorLocation(text, (e as Error).message);
      }
      assert.fail(`${text} parsed`);
    };
    assert.equal(at('{"a": 1,}').offset, 8);
    assert.deepEqual(at('[1, 2'), { offset: 5, line: 1, column: 6, found: 'the text ends early' });
    // V8 gives no position here ("Unexpected token '}'"): the first bad token is "tru".
    assert.deepEqual(at('{"a": tru}'), { offset: 6, line: 1, column: 7, found: 'unexpected "t"' });
    assert.deepEqual(at('{\n  "a": 1\n  "b": 2}'), { offset: 13, line: 3, column: 3, found: 'unexpected """' });
    assert.equal(at('{"a": "x"} extra').offset, 11);
    assert.equal(at('// comment\n{}').offset, 0);
    assert.equal(at('').found, 'the text ends early');
  });

  test('model.json that is not a TF.js model', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ class_name: 'Sequential', config: { layers: [] } }));
    await expectLoadError(path.join(dir, 'model.json'), /only a Keras model architecture/);
    fs.writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ name: 'package' }));
    await expectLoadError(path.join(dir, 'other.json'), /not a TensorFlow\.js model\.json/);
  });

  test('missing weight shard is named', async () => {
    const dir = tmpDir();
    copyDir(fixture('tfjs_layers'), dir, ['group1-shard2of2.bin']);
    await expectLoadError(path.join(dir, 'model.json'), /weight shard group1-shard2of2\.bin is missing/);
  });

  test('truncated weight shard is named with expected and actual sizes', async () => {
    const dir = tmpDir();
    copyDir(fixture('tfjs_layers'), dir);
    const last = path.join(dir, 'group1-shard2of2.bin');
    fs.truncateSync(last, 700);
    await expectLoadError(path.join(dir, 'model.json'), /group1-shard2of2\.bin is truncated: expected 780 bytes, found 700/);
    // The first shard truncated instead (the last one intact).
    copyDir(fixture('tfjs_layers'), dir);
    fs.truncateSync(path.join(dir, 'group1-shard1of2.bin'), 1000);
    await expectLoadError(path.join(dir, 'model.json'), /group1-shard1of2\.bin is truncated: expected 1024 bytes, found 1000/);
    // Graph models share the shard reader.
    const gdir = tmpDir();
    copyDir(fixture('tfjs_graph'), gdir);
    fs.truncateSync(path.join(gdir, 'group1-shard1of1.bin'), 1000);
    await expectLoadError(path.join(gdir, 'model.json'), /group1-shard1of1\.bin is truncated: expected 1716 bytes, found 1000/);
  });

  test('TF.js Layers weights that do not fit the topology name the layer and the weight', async () => {
    const dir = tmpDir();
    copyDir(fixture('tfjs_layers'), dir);
    editJson(fixture('tfjs_layers/model.json'), path.join(dir, 'model.json'), (json) => {
      const layers = (json as any).modelTopology.model_config.config.layers;
      layers.find((l: any) => l.config.name === 'conv2d_1').config.filters = 8;
    });
    await expectLoadError(path.join(dir, 'model.json'), /conv2d_1\/kernel: file has shape \[3,3,4,6\], the layer needs \[3,3,4,8\]/);
  });

  test('Keras .h5 weights that do not fit the topology name the layer and the weight', async () => {
    const file = path.join(tmpDir(), 'model.h5');
    await editH5Config(fixture('keras2_sequential.h5'), file, (c) => c.replace('"name": "conv2d_1", "trainable": true, "dtype": "float32", "filters": 6', '"name": "conv2d_1", "trainable": true, "dtype": "float32", "filters": 8'));
    await expectLoadError(file, /conv2d_1\/kernel: file has shape \[3,3,4,6\], the layer needs \[3,3,4,8\]/);
  });

  test('Keras 3 .keras weights that do not fit the topology name the layer and the weight', async () => {
    const file = path.join(tmpDir(), 'model.keras');
    editKerasZip(fixture('keras3_functional.keras'), file, 'config.json', (t) => t.replace('"name": "stem", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "filters": 4', '"name": "stem", "trainable": true, "dtype": "float32", "filters": 5'));
    await expectLoadError(file, /stem\/kernel: file has shape \[3,3,3,4\], the layer needs \[3,3,3,5\]/);
  });

  test('Graph constants that do not fit the graph name the constant', async () => {
    const dir = tmpDir();
    copyDir(fixture('tfjs_graph'), dir);
    const kernel = 'StatefulPartitionedCall/sequential/conv2d/Conv2D/ReadVariableOp';
    editJson(fixture('tfjs_graph/model.json'), path.join(dir, 'model.json'), (json) => {
      const node = (json as any).modelTopology.node.find((n: any) => n.name === kernel);
      node.attr.value.tensor.tensorShape.dim[3].size = '8';
    });
    await expectLoadError(path.join(dir, 'model.json'), new RegExp(`${kernel}: file has shape \\[3,3,1,4\\], the graph needs \\[3,3,1,8\\]`));
    editJson(fixture('tfjs_graph/model.json'), path.join(dir, 'model.json'), (json) => {
      const manifest = (json as any).weightsManifest[0];
      manifest.weights.find((w: any) => w.name === kernel).name = 'some/other/constant';
    });
    await expectLoadError(path.join(dir, 'model.json'), new RegExp(`graph constant "${kernel}" has no values`));
  });

  test('unknown layer class in TF.js Layers (checked before TF.js sees it)', async () => {
    const dir = tmpDir();
    copyDir(fixture('tfjs_layers'), dir);
    editJson(fixture('tfjs_layers/model.json'), path.join(dir, 'model.json'), (json) => {
      const layers = (json as any).modelTopology.model_config.config.layers;
      layers.find((l: any) => l.config.name === 'batch_normalization').class_name = 'MyFancyNorm';
    });
    await expectLoadError(path.join(dir, 'model.json'), /layer "batch_normalization" has class "MyFancyNorm"/);
  });

  test('Lambda layer in a Keras .h5', async () => {
    const file = path.join(tmpDir(), 'model.h5');
    await editH5Config(fixture('keras2_functional.h5'), file, (c) => c.replace('{"class_name": "Add", "config": {"name": "add"', '{"class_name": "Lambda", "config": {"name": "add"'));
    await expectLoadError(file, /layer "add" is a Lambda layer/);
  });

  test('custom registered class in a Keras 3 .keras', async () => {
    const file = path.join(tmpDir(), 'model.keras');
    editKerasZip(fixture('keras3_functional.keras'), file, 'config.json', (t) => {
      const config = JSON.parse(t);
      const merge = config.config.layers.find((l: any) => l.name === 'merge');
      merge.module = 'my_layers';
      merge.class_name = 'FancyMerge';
      merge.registered_name = 'my_layers>FancyMerge';
      return JSON.stringify(config);
    });
    await expectLoadError(file, /layer "merge" is the custom class "my_layers>FancyMerge"/);
  });

  test('unsupported graph op names the node and the op', async () => {
    const dir = tmpDir();
    copyDir(fixture('tfjs_graph'), dir);
    editJson(fixture('tfjs_graph/model.json'), path.join(dir, 'model.json'), (json) => {
      (json as any).modelTopology.node.find((n: any) => n.op === 'Relu').op = 'FancyRelu';
    });
    await expectLoadError(path.join(dir, 'model.json'), /graph node "StatefulPartitionedCall\/sequential\/conv2d\/Relu" uses the TensorFlow op "FancyRelu"/);
  });

  test('a topology TF.js cannot build fails cleanly, without leaking the layers built so far', async () => {
    const file = path.join(tmpDir(), 'model.keras');
    editKerasZip(fixture('keras3_functional.keras'), file, 'config.json', (t) => {
      const config = JSON.parse(t);
      const branch = config.config.layers.find((l: any) => l.name === 'branch');
      branch.config.kernel_size = [3, 3]; // 'valid' padding: 6x6, no longer concatenable with 8x8
      return JSON.stringify(config);
    });
    await expectLoadError(file, /TensorFlow\.js cannot build the model from its configuration: .*Concatenate/);
  });

  test('HDF5 file that is not a Keras model', async () => {
    await expectLoadError(fixture('not_keras.h5'), /is an HDF5 file but not a Keras model: it has no model_config attribute/);
    await expectLoadError(fixture('weights_only.h5'), /holds only weights \(written by save_weights\)/);
  });

  test('.keras archive without config.json', async () => {
    const file = path.join(tmpDir(), 'model.keras');
    editKerasZip(fixture('keras3_sequential.keras'), file, 'config.json', () => undefined);
    await expectLoadError(file, /the \.keras archive has no config\.json/);
  });

  test('files that are not HDF5 / not a zip at all', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'model.h5'), 'this is not a model\n');
    await expectLoadError(path.join(dir, 'model.h5'), /is not an HDF5 file/);
    fs.writeFileSync(path.join(dir, 'model.keras'), 'this is not a model either\n');
    await expectLoadError(path.join(dir, 'model.keras'), /is not a zip archive/);
    fs.copyFileSync(fixture('keras2_sequential.h5'), path.join(dir, 'renamed.keras'));
    await expectLoadError(path.join(dir, 'renamed.keras'), /is an HDF5 file, not a zip archive/);
    fs.writeFileSync(path.join(dir, 'empty.h5'), '');
    await expectLoadError(path.join(dir, 'empty.h5'), /is not an HDF5 file/);
    fs.writeFileSync(path.join(dir, 'random.bin'), Buffer.from([1, 2, 3, 4, 5]));
    await expectLoadError(path.join(dir, 'random.bin'), /not a model file CNN Lens recognises/);
  });

  test('truncated .h5 (HDF5 signature intact) says so, without HDF5 diagnostics on stderr', async () => {
    const file = path.join(tmpDir(), 'model.h5');
    const bytes = fs.readFileSync(fixture('keras2_sequential.h5'));
    fs.writeFileSync(file, bytes.subarray(0, 5000));
    await expectLoadError(file, new RegExp(`cannot open the HDF5 file: the file is truncated \\(5000 of ${bytes.length} bytes\\)`));
  });

  test('damaged .keras zip', async () => {
    const file = path.join(tmpDir(), 'model.keras');
    const bytes = fs.readFileSync(fixture('keras3_sequential.keras'));
    fs.writeFileSync(file, bytes.subarray(0, 3000));
    await expectLoadError(file, /model\.keras: (the zip archive is damaged|the \.keras archive has no)/);
  });
});
