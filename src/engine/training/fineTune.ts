/**
 * Fine-tuning: the model's top layers (chosen in the plan) are unfrozen and trained on the data
 * at a low learning rate; everything else, BatchNormalization included, stays frozen, and the
 * whole model runs in inference mode (see `trainLoop.ts`). The images are decoded once into
 * memory (`ImageStore`); augmentation, when on, is applied to each training batch. Before the
 * first epoch the source model is evaluated on the validation split (`before`), so the result
 * says what fine-tuning gained. Runs in one worker, on a fresh copy of the model; given a `peer`
 * port (the client starts a `gradientPeer` job on another worker), each training batch is split
 * with that worker (dataParallel.ts), while everything else (evaluation, dead units, saving)
 * stays here.
 */
import type { MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { loadModel } from '../io/models';
import { loadCnnLensConfig } from '../config/cnnlensConfig';
import { prepareTraining } from './plan';
import { ImageStore } from './imageStore';
import { augmentBatch, isIdentity } from './augment';
import { deriveSeed, uniformRandom } from '../random';
import { deadCounts, scanImages } from './deadUnits';
import { evaluate, trainLoop, type Samples } from './trainLoop';
import { saveTrainedModel, trainedModelConfig } from './saveTrainedModel';
import { featuresProgress, loopSettings, type TrainingContext } from './trainingContext';
import type { TrainingOptions, TrainingResult } from './types';
import { fineTunePredict, fineTuneTrainingPredict } from './fineTunePredict';
import { DataParallelLead } from './dataParallel';

export interface FineTuneArgs {
  model: string;
  options: TrainingOptions;
  /** The lead's end of a channel to a `gradientPeer` job: split each batch with it. */
  peer?: MessagePort;
}

export async function fineTuneJob(args: FineTuneArgs, ctx: TrainingContext): Promise<TrainingResult> {
  try {
    return await fineTune(args, ctx);
  } finally {
    // Closing the channel ends the peer's job, whatever happened here (a no-op once closed).
    args.peer?.close();
  }
}

async function fineTune(args: FineTuneArgs, ctx: TrainingContext): Promise<TrainingResult> {
  const started = performance.now();
  const [source, config] = await Promise.all([loadModel(args.model), loadCnnLensConfig(args.model)]);
  let lead: DataParallelLead | undefined;
  try {
    const { plan, data, split, unfrozen } = await prepareTraining(source, config, 'fine-tune', args.options);
    const o = plan.options;
    const all = Int32Array.from([...split.train, ...split.validation]).sort();
    const { store, readable } = await ImageStore.load(data.items, all, source.input, config.preprocessing, {
      // Decoding is before the first epoch, so a stop request here means "nothing to keep".
      signal: ctx.stop ? AbortSignal.any([ctx.signal, ctx.stop]) : ctx.signal,
      onProgress: (done, total) => featuresProgress(ctx, done, total),
    });
    const geometry = source.input;
    const shape = [geometry.height, geometry.width, geometry.channels];
    const augmentRandom = uniformRandom(deriveSeed(o.seed, 7));
    const trainItems = split.train.filter((i) => readable.has(i));
    const validationItems = split.validation.filter((i) => readable.has(i));
    const samples = (items: Int32Array, augment: boolean): Samples => {
      return {
        count: items.length,
        labels: Int32Array.from(items, (i) => data.items[i].label),
        input: (positions, training) => {
          const images = store.batch(Int32Array.from(positions, (p) => items[p]));
          if (training && augment) augmentBatch(images, positions.length, geometry, o.augment, augmentRandom);
          return tf.tensor(images, [positions.length, ...shape]);
        },
      };
    };
    const train = samples(trainItems, !isIdentity(o.augment));
    const validation = samples(validationItems, false);
    if (validation.count === 0) throw new Error(`${data.path}: none of the validation images could be read`);
    plan.trainImages = train.count;
    plan.validationImages = validation.count;

    const lm = source.layersModel!;
    const trainable = new Set(unfrozen!.trainable);
    for (const layer of lm.layers) layer.trainable = trainable.has(layer.name);
    const predict = fineTunePredict(lm);
    const trainingPredict = fineTuneTrainingPredict(lm);
    const variables = lm.trainableWeights.map((w) => w.read() as tf.Variable);
    const classes = lm.outputs[0].shape[lm.outputs[0].shape.length - 1] as number;
    const beforeEval = evaluate(predict, validation, classes, o.batchSize);
    const before = { valAcc: beforeEval.acc, valLoss: beforeEval.loss };

    if (args.peer) lead = new DataParallelLead(args.peer, { predict: trainingPredict, variables, classes, trainableLayers: unfrozen!.trainable });
    const loop = await trainLoop({
      predict,
      trainingPredict,
      variables,
      classes,
      train,
      validation,
      ...loopSettings(o, ctx, train.count),
      deadUnits: async () => deadCounts(await scanImages(source, (rows) => store.batch(Int32Array.from(rows, (r) => validationItems[r])), validation.count, 256)),
      gradients: lead && ((x, labels) => lead!.gradients(x, labels)),
    });
    // The peer is done once the loop is: free its worker before saving.
    lead?.close();
    const result: TrainingResult = { mode: 'fine-tune', plan, ...loop, out: null, before, seconds: 0, backend: ctx.backend };
    if (lead) result.splitBatches = lead.splitBatches;
    if (ctx.signal.aborted) throw new Error('Cancelled');
    await saveTrainedModel(lm, o.out, o.data, trainedModelConfig(plan, config, result));
    result.out = o.out;
    result.seconds = (performance.now() - started) / 1000;
    return result;
  } finally {
    lead?.close();
    source.dispose();
  }
}
