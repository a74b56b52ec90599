/**
 * TF-Slim architectures (tensorflow/models research/slim/nets) rebuilt with TF.js layers, for the
 * receptive-field tests: the same kernels, strides, paddings and branch topology as Slim, so the
 * theoretical receptive fields must equal google-research/receptive_field's published table.
 *
 * Receptive fields do not depend on channel counts, so every layer has 1–2 channels: the models
 * are tiny and build in milliseconds (weights are random; nothing is run). End-point layers carry
 * the Slim end-point's last path component as their name ('conv1_1', 'pool5', 'block3', 'Mixed_6e').
 *
 * Slim details reproduced (as rf_benchmark.py builds them):
 * - alexnet_v2 / vgg are built without their arg scopes: slim.conv2d pads 'SAME' and
 *   slim.max_pool2d is 2x2 stride 2 'VALID' unless told otherwise; the fully connected layers
 *   are 'VALID' convolutions (fc6 5x5 / 7x7, then 1x1).
 * - resnet_v1 is built in resnet_arg_scope(), so pool1 is 'SAME'; strided convolutions use
 *   resnet_utils.conv2d_same (explicit zero padding, then 'VALID'), rebuilt here as
 *   ZeroPadding2D + 'valid'; the stride sits in the LAST unit of each block (the table's FAQ),
 *   and the shortcut of a strided identity unit is a 1x1 max pool with that stride.
 * - inception_v3_base: 'VALID' stem, 'SAME' stride-1 mixed blocks, 'VALID' stride-2 reductions.
 */
import * as tf from '@tensorflow/tfjs';

type T = tf.SymbolicTensor;
type Padding = 'same' | 'valid';

interface ConvOptions {
  stride?: number;
  padding?: Padding;
  name?: string;
  filters?: number;
  activation?: 'relu' | 'linear';
}

function conv(x: T, kernel: number | [number, number], o: ConvOptions = {}): T {
  return tf.layers
    .conv2d({
      filters: o.filters ?? 1,
      kernelSize: kernel,
      strides: o.stride ?? 1,
      padding: o.padding ?? 'same',
      activation: o.activation ?? 'relu',
      useBias: false,
      name: o.name,
    })
    .apply(x) as T;
}

function maxPool(x: T, size: number, stride: number, padding: Padding, name?: string): T {
  return tf.layers.maxPooling2d({ poolSize: size, strides: stride, padding, name }).apply(x) as T;
}

function avgPool(x: T, size: number, stride: number, padding: Padding, name?: string): T {
  return tf.layers.averagePooling2d({ poolSize: size, strides: stride, padding, name }).apply(x) as T;
}

function concat(xs: T[], name?: string): T {
  return tf.layers.concatenate({ name }).apply(xs) as T;
}

function inputOf(resolution: number): T {
  return tf.input({ shape: [resolution, resolution, 1], name: 'input_image' });
}

/** alexnet.alexnet_v2 up to fc7 (fc8 is a 1x1 convolution and changes nothing). */
export function alexnetV2(resolution: number): tf.LayersModel {
  const input = inputOf(resolution);
  let net = conv(input, 11, { stride: 4, padding: 'valid', name: 'conv1' });
  net = maxPool(net, 3, 2, 'valid', 'pool1');
  net = conv(net, 5, { name: 'conv2' });
  net = maxPool(net, 3, 2, 'valid', 'pool2');
  net = conv(net, 3, { name: 'conv3' });
  net = conv(net, 3, { name: 'conv4' });
  net = conv(net, 3, { name: 'conv5' });
  net = maxPool(net, 3, 2, 'valid', 'pool5');
  net = conv(net, 5, { padding: 'valid', name: 'fc6' });
  net = tf.layers.dropout({ rate: 0.5, name: 'dropout6' }).apply(net) as T;
  net = conv(net, 1, { name: 'fc7' });
  return tf.model({ inputs: input, outputs: net, name: 'alexnet_v2' });
}

/** vgg.vgg_a (repeats [1, 1, 2, 2, 2]) and vgg.vgg_16 (repeats [2, 2, 3, 3, 3]) up to fc7. */
export function vgg(kind: 'vgg_a' | 'vgg_16', resolution: number): tf.LayersModel {
  const repeats = kind === 'vgg_a' ? [1, 1, 2, 2, 2] : [2, 2, 3, 3, 3];
  const input = inputOf(resolution);
  let net = input;
  repeats.forEach((n, b) => {
    for (let i = 1; i <= n; i++) net = conv(net, 3, { name: `conv${b + 1}_${i}` });
    net = maxPool(net, 2, 2, 'valid', `pool${b + 1}`);
  });
  net = conv(net, 7, { padding: 'valid', name: 'fc6' });
  net = tf.layers.dropout({ rate: 0.5, name: 'dropout6' }).apply(net) as T;
  net = conv(net, 1, { name: 'fc7' });
  return tf.model({ inputs: input, outputs: net, name: kind });
}

/** resnet_utils.conv2d_same: 'SAME' when stride 1, else explicit symmetric padding then 'VALID'. */
function conv2dSame(x: T, kernel: number, stride: number, o: ConvOptions = {}): T {
  if (stride === 1) return conv(x, kernel, { ...o, padding: 'same' });
  const padTotal = kernel - 1;
  const beg = Math.floor(padTotal / 2);
  const padded = tf.layers.zeroPadding2d({ padding: [[beg, padTotal - beg], [beg, padTotal - beg]] }).apply(x) as T;
  return conv(padded, kernel, { ...o, stride, padding: 'valid' });
}

/** resnet_v1.bottleneck. Slim projects the shortcut when the depth changes: the first unit of each block. */
function bottleneck(x: T, stride: number, project: boolean, name?: string): T {
  const depth = 2;
  const shortcut = project
    ? conv(x, 1, { stride, filters: depth, activation: 'linear' })
    : stride === 1
      ? x
      : maxPool(x, 1, stride, 'same'); // resnet_utils.subsample, 'SAME' from resnet_arg_scope
  let residual = conv(x, 1);
  residual = conv2dSame(residual, 3, stride);
  residual = conv(residual, 1, { filters: depth, activation: 'linear' });
  const sum = tf.layers.add().apply([shortcut, residual]) as T;
  return tf.layers.activation({ activation: 'relu', name }).apply(sum) as T;
}

/** resnet_v1.resnet_v1_50 up to block4 (global_pool=False, num_classes=None). */
export function resnetV1_50(resolution: number): tf.LayersModel {
  const blocks: [string, number, number][] = [
    ['block1', 3, 2],
    ['block2', 4, 2],
    ['block3', 6, 2],
    ['block4', 3, 1],
  ];
  const input = inputOf(resolution);
  let net = conv2dSame(input, 7, 2, { name: 'conv1' });
  net = maxPool(net, 3, 2, 'same', 'pool1');
  for (const [name, units, stride] of blocks) {
    for (let u = 0; u < units; u++) {
      const last = u === units - 1;
      net = bottleneck(net, last ? stride : 1, u === 0, last ? name : undefined);
    }
  }
  return tf.model({ inputs: input, outputs: net, name: 'resnet_v1_50' });
}

/** inception_v3.inception_v3_base up to Mixed_7c. */
export function inceptionV3(resolution: number): tf.LayersModel {
  const input = inputOf(resolution);
  const v = { padding: 'valid' as Padding };
  let net = conv(input, 3, { ...v, stride: 2, name: 'Conv2d_1a_3x3' });
  net = conv(net, 3, { ...v, name: 'Conv2d_2a_3x3' });
  net = conv(net, 3, { name: 'Conv2d_2b_3x3' });
  net = maxPool(net, 3, 2, 'valid', 'MaxPool_3a_3x3');
  net = conv(net, 1, { ...v, name: 'Conv2d_3b_1x1' });
  net = conv(net, 3, { ...v, name: 'Conv2d_4a_3x3' });
  net = maxPool(net, 3, 2, 'valid', 'MaxPool_5a_3x3');

  // Mixed_5b, 5c, 5d: 35 x 35 blocks.
  for (const name of ['Mixed_5b', 'Mixed_5c', 'Mixed_5d']) {
    const b0 = conv(net, 1);
    const b1 = conv(conv(net, 1), 5);
    const b2 = conv(conv(conv(net, 1), 3), 3);
    const b3 = conv(avgPool(net, 3, 1, 'same'), 1);
    net = concat([b0, b1, b2, b3], name);
  }
  {
    const b0 = conv(net, 3, { stride: 2, padding: 'valid' });
    const b1 = conv(conv(conv(net, 1), 3), 3, { stride: 2, padding: 'valid' });
    const b2 = maxPool(net, 3, 2, 'valid');
    net = concat([b0, b1, b2], 'Mixed_6a');
  }
  // Mixed_6b..6e: 17 x 17 blocks with factorised 7x7 convolutions.
  for (const name of ['Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e']) {
    const b0 = conv(net, 1);
    const b1 = conv(conv(conv(net, 1), [1, 7]), [7, 1]);
    const b2 = conv(conv(conv(conv(conv(net, 1), [7, 1]), [1, 7]), [7, 1]), [1, 7]);
    const b3 = conv(avgPool(net, 3, 1, 'same'), 1);
    net = concat([b0, b1, b2, b3], name);
  }
  {
    const b0 = conv(conv(net, 1), 3, { stride: 2, padding: 'valid' });
    const b1 = conv(conv(conv(conv(net, 1), [1, 7]), [7, 1]), 3, { stride: 2, padding: 'valid' });
    const b2 = maxPool(net, 3, 2, 'valid');
    net = concat([b0, b1, b2], 'Mixed_7a');
  }
  // Mixed_7b, 7c: 8 x 8 blocks whose branches end in a concat of 1x3 and 3x1.
  for (const name of ['Mixed_7b', 'Mixed_7c']) {
    const b0 = conv(net, 1);
    const b1in = conv(net, 1);
    const b1 = concat([conv(b1in, [1, 3]), conv(b1in, [3, 1])]);
    const b2in = conv(conv(net, 1), 3);
    const b2 = concat([conv(b2in, [1, 3]), conv(b2in, [3, 1])]);
    const b3 = conv(avgPool(net, 3, 1, 'same'), 1);
    net = concat([b0, b1, b2, b3], name);
  }
  return tf.model({ inputs: input, outputs: net, name: 'inception_v3' });
}
