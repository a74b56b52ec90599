/**
 * Head training, the job that runs after the feature shards: merges the cached base features,
 * builds the new head, trains it on the features (the base never runs again), then saves base +
 * head as a new model folder. Runs in one worker; the source model is loaded afresh (not from the
 * worker's model cache) because the saved model is built from its layers.
 */
import * as tf from '@tensorflow/tfjs';
import { loadModel } from '../io/models';
import { loadCnnLensConfig } from '../config/cnnlensConfig';
import { finishScan, mergeScanAccumulators } from '../analyses/scan';
import { prepareTraining } from './plan';
import type { FeatureShard } from './featureCache';
import { gatherRows } from './featureCache';
import { applyHead, attachHead, buildHeadLayers, disposeLayerWeights } from './headModel';
import { deadCounts, headLayerDead } from './deadUnits';
import { headGradients } from './headGradients';
import { trainLoop, type Samples } from './trainLoop';
import { saveTrainedModel, trainedModelConfig } from './saveTrainedModel';
import { loopSettings, type TrainingContext } from './trainingContext';
import type { TrainingOptions, TrainingResult } from './types';

export interface TrainHeadArgs {
  model: string;
  options: TrainingOptions;
  /** From `extractFeaturesShard`, covering every image of the data once. */
  shards: FeatureShard[];
}

/** Cached features as training samples: position k = item `items[k]`, its row `rows[k]`. */
function featureSamples(features: Float32Array, featureSize: number, featureShape: number[], rows: Int32Array, labels: Int32Array): Samples {
  return {
    count: rows.length,
    labels,
    input: (positions) =>
      gatherRows(
        features,
        featureSize,
        Int32Array.from(positions, (p) => rows[p]),
        featureShape,
      ),
  };
}

export async function trainHeadJob(args: TrainHeadArgs, ctx: TrainingContext): Promise<TrainingResult> {
  const started = performance.now();
  const [source, config] = await Promise.all([loadModel(args.model), loadCnnLensConfig(args.model)]);
  let head: tf.layers.Layer[] = [];
  try {
    const { plan, data, split, cut, head: headSpec } = await prepareTraining(source, config, 'head', args.options);
    if (!args.shards.length || args.shards.some((s) => s.fingerprint !== data.fingerprint)) {
      throw new Error(`${data.path}: the images changed while their features were computed; start the training again`);
    }
    // Merge the shards: item index → feature row.
    const featureSize = args.shards[0].featureSize;
    const features = new Float32Array(args.shards.reduce((a, s) => a + s.indices.length, 0) * featureSize);
    const rowOf = new Map<number, number>();
    for (const s of args.shards) {
      features.set(s.features, rowOf.size * featureSize);
      for (const index of s.indices) rowOf.set(index, rowOf.size);
    }
    const baseDead = deadCounts(finishScan(args.shards.map((s) => s.scan).reduce((a, b) => mergeScanAccumulators(a, b))));
    const samples = (items: Int32Array): Samples => {
      const kept = Array.from(items).filter((i) => rowOf.has(i));
      return featureSamples(
        features,
        featureSize,
        cut!.featureShape,
        Int32Array.from(kept, (i) => rowOf.get(i)!),
        Int32Array.from(kept, (i) => data.items[i].label),
      );
    };
    const train = samples(split.train);
    const validation = samples(split.validation);

    if (validation.count === 0) throw new Error(`${data.path}: none of the validation images could be read`);
    plan.trainImages = train.count;
    plan.validationImages = validation.count;

    head = buildHeadLayers(headSpec!, plan.options.seed, cut!.featureShape);
    const full = attachHead(source.layersModel!, cut!.cutAt, head, `${source.name}_head`);
    const predict = (x: tf.Tensor): tf.Tensor => applyHead(head, x);
    const hidden = headSpec!.findIndex((h) => h.activation === 'relu');
    const o = plan.options;
    const loop = await trainLoop({
      predict,
      variables: head.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable)),
      classes: plan.classNames.length,
      train,
      validation,
      ...loopSettings(o, ctx, train.count),
      // Closed-form gradients: the tape's bookkeeping costs more than a head's arithmetic.
      gradients: async (x, labels) => headGradients(head, x, labels),
      deadUnits: async () => ({
        ...baseDead,
        ...(hidden >= 0
          ? { [headSpec![hidden].name]: headLayerDead((x) => applyHead(head.slice(0, hidden + 1), x), (rows) => validation.input(rows, false), validation.count, 256) }
          : {}),
      }),
    });
    const result: TrainingResult = { mode: 'head', plan, ...loop, out: null, seconds: 0, backend: ctx.backend };
    if (ctx.signal.aborted) throw new Error('Cancelled');
    await saveTrainedModel(full, o.out, o.data, trainedModelConfig(plan, config, result));
    result.out = o.out;
    result.seconds = (performance.now() - started) / 1000;
    return result;
  } finally {
    // The saved model shares the source's layers and the head's: free every weight once.
    if (source.layersModel) disposeLayerWeights([...source.layersModel.layers, ...head]);
    else source.dispose();
  }
}
