/**
 * A generated TF.js Layers model with hundreds of layers, for the model editor's virtualised
 * layer table: an input of 4×4×2 followed by `count` 1×1 Conv2D layers (2 filters, identity
 * kernel, relu), named `conv_000`, `conv_001`, … Shared by e2e and integration tests (no `vscode`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export function deepLayerName(i: number): string {
  return `conv_${String(i).padStart(3, '0')}`;
}

/** Writes `dir/model.json` + `dir/weights.bin`; returns the model.json path. */
export function writeDeepModel(dir: string, count = 400): string {
  mkdirSync(dir, { recursive: true });
  const layers: unknown[] = [{ class_name: 'InputLayer', config: { batch_input_shape: [null, 4, 4, 2], dtype: 'float32', sparse: false, ragged: false, name: 'input' } }];
  const weights: { name: string; shape: number[]; dtype: string }[] = [];
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = deepLayerName(i);
    layers.push({
      class_name: 'Conv2D',
      config: {
        name,
        trainable: true,
        dtype: 'float32',
        filters: 2,
        kernel_size: [1, 1],
        strides: [1, 1],
        padding: 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: 1,
        activation: 'relu',
        use_bias: true,
        kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
        bias_initializer: { class_name: 'Zeros', config: {} },
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      },
    });
    weights.push({ name: `${name}/kernel`, shape: [1, 1, 2, 2], dtype: 'float32' }, { name: `${name}/bias`, shape: [2], dtype: 'float32' });
    values.push(1, 0, 0, 1, 0.01, 0.01);
  }
  const model = {
    format: 'layers-model',
    generatedBy: 'CNN Lens tests',
    convertedBy: null,
    modelTopology: {
      keras_version: '2.12.0',
      backend: 'tensorflow',
      model_config: { class_name: 'Sequential', config: { name: `deep_${count}`, layers } },
    },
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(new Float32Array(values).buffer));
  const file = path.join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(model));
  return file;
}
