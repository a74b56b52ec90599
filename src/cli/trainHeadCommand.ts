/**
 * `cnn-lens train-head MODEL --data DIR --out DIR [--cut-at LAYER] [--hidden N] ...`: a new
 * classifier head on the model's frozen base, trained on cached features, saved as a new model.
 */
import type { Command } from './commands';
import { checkTrainingFlags, runTraining } from './trainingCli';

export const trainHeadCommand: Command = {
  check: (ctx) => checkTrainingFlags(ctx, 'head'),
  run: (ctx) => runTraining(ctx, 'head'),
};
