/**
 * `cnn-lens fine-tune MODEL --data DIR --out DIR [--unfreeze N | --from-layer NAME] [--augment] ...`:
 * the model's top layers retrained at a low learning rate, saved as a new model.
 */
import type { Command } from './commands';
import { checkTrainingFlags, runTraining } from './trainingCli';

export const fineTuneCommand: Command = {
  check: (ctx) => checkTrainingFlags(ctx, 'fine-tune'),
  run: (ctx) => runTraining(ctx, 'fine-tune'),
};
