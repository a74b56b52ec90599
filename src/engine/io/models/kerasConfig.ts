/**
 * Normalises a Keras 2 style model config (what `.h5` files store and what the Keras 3
 * translation produces) into what TF.js Layers deserialises faithfully.
 *
 * TF.js reads Keras 2 configs almost as they are (the TF.js converter copies `model_config`
 * verbatim), and ignores keys it does not know. What remains to fix are the few places where a
 * Keras value is either rejected by TF.js or silently means something else there:
 * - regularizers `L1`/`L2`: TF.js only registers `L1L2`;
 * - initializers `LecunNormal`/`LecunUniform`: TF.js spells them `LeCun...`; an initializer TF.js
 *   lacks is replaced by `Zeros`, since every weight is overwritten on load anyway;
 * - constraints TF.js lacks are dropped (they only act during training);
 * - `BatchNormalization.axis` saved as `[3]` by tf.keras 2.x becomes `3`;
 * - activation `silu` (Keras 3's name for swish) becomes `swish`;
 * - features TF.js does not implement and that would change results are refused with a
 *   message: grouped convolutions (`groups > 1`), pooling with `keepdims=True`, and
 *   `channels_first` data.
 */
import * as tf from '@tensorflow/tfjs';
import { fail, isRecord } from './common';
import { type ConfigObject, isModelClass, layerNameOf, modelLayers } from './layersBuild';

const INITIALIZER_ALIASES: Record<string, string> = {
  LecunNormal: 'LeCunNormal',
  LecunUniform: 'LeCunUniform',
  lecun_normal: 'LeCunNormal',
  lecun_uniform: 'LeCunUniform',
};

const CONSTRAINTS = new Set(['MaxNorm', 'UnitNorm', 'NonNeg', 'MinMaxNorm']);

const ACTIVATION_ALIASES: Record<string, string> = { silu: 'swish' };

function registered(): Record<string, unknown> {
  return tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
}

function normalizeInitializer(value: unknown): unknown {
  if (!isRecord(value) || typeof value.class_name !== 'string') return value;
  const cls = INITIALIZER_ALIASES[value.class_name] ?? value.class_name;
  if (!(cls in registered())) return { class_name: 'Zeros', config: {} };
  return { ...value, class_name: cls };
}

function normalizeRegularizer(value: unknown): unknown {
  if (!isRecord(value) || typeof value.class_name !== 'string') return value;
  const cfg = isRecord(value.config) ? value.config : {};
  switch (value.class_name) {
    case 'L1L2':
      return { class_name: 'L1L2', config: { l1: Number(cfg.l1 ?? 0), l2: Number(cfg.l2 ?? 0) } };
    case 'L1':
      return { class_name: 'L1L2', config: { l1: Number(cfg.l1 ?? 0.01), l2: 0 } };
    case 'L2':
      return { class_name: 'L1L2', config: { l1: 0, l2: Number(cfg.l2 ?? 0.01) } };
    default:
      return null;
  }
}

function normalizeConstraint(value: unknown): unknown {
  if (!isRecord(value) || typeof value.class_name !== 'string') return value;
  return CONSTRAINTS.has(value.class_name) ? value : null;
}

function normalizeLayerConfig(file: string, className: string, name: string, cfg: ConfigObject): ConfigObject {
  const out: ConfigObject = { ...cfg };
  for (const [key, value] of Object.entries(cfg)) {
    if (key.endsWith('_initializer')) out[key] = normalizeInitializer(value);
    else if (key.endsWith('_regularizer')) out[key] = normalizeRegularizer(value);
    else if (key.endsWith('_constraint')) out[key] = normalizeConstraint(value);
  }
  if (typeof out.activation === 'string' && out.activation in ACTIVATION_ALIASES) out.activation = ACTIVATION_ALIASES[out.activation];
  if (Array.isArray(out.axis) && out.axis.length === 1 && /Normalization$/.test(className)) out.axis = out.axis[0];
  if (out.groups != null) {
    if (Number(out.groups) !== 1) fail(file, `layer "${name}" is a grouped convolution (groups=${String(out.groups)}), which TensorFlow.js does not support`);
    delete out.groups;
  }
  if (out.keepdims === true) fail(file, `layer "${name}" (${className}) uses keepdims=True, which TensorFlow.js does not support`);
  delete out.keepdims;
  if (out.data_format === 'channels_first') {
    fail(file, `layer "${name}" (${className}) uses channels_first data; CNN Lens needs channels_last (NHWC) models`);
  }
  return out;
}

/** Returns a normalised deep copy; the input is not modified. */
export function normalizeKerasConfig(file: string, modelConfig: ConfigObject): ConfigObject {
  const visit = (layer: ConfigObject): ConfigObject => {
    const className = String(layer.class_name);
    const name = layerNameOf(layer);
    if (isModelClass(className)) {
      const cfg = layer.config;
      if (Array.isArray(cfg)) return { ...layer, config: cfg.filter(isRecord).map(visit) };
      const c = isRecord(cfg) ? cfg : {};
      return { ...layer, config: { ...c, layers: modelLayers(c).map(visit) } };
    }
    const cfg = isRecord(layer.config) ? layer.config : {};
    const out = normalizeLayerConfig(file, className, name, cfg);
    if (isRecord(cfg.layer)) out.layer = visit(cfg.layer);
    return { ...layer, config: out };
  };
  return visit(JSON.parse(JSON.stringify(modelConfig)) as ConfigObject);
}
