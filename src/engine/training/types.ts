/**
 * Transfer learning as the engine's callers see it (CLI, VS Code host): options, the plan shown
 * before training starts, per-epoch reports, progress details and the result. Plain data, and no
 * TF.js import, so the extension host can import these types without loading TensorFlow.js.
 *
 * Two modes:
 *  - `head`: cut the model at a layer (default: the input of its last Dense layer), freeze what
 *    is below, put a new classifier head on top (optional hidden Dense + softmax over the data's
 *    classes) and train only the head, on features of the frozen base computed once;
 *  - `fine-tune`: keep the model, unfreeze its top layers (BatchNormalization stays frozen and in
 *    inference mode) and train them on the data at a low learning rate.
 */

export type TrainingMode = 'head' | 'fine-tune';

export interface AugmentOptions {
  /** Random horizontal flips (half of the images). */
  flip?: boolean;
  /** Random shifts of up to this fraction of the height / width (edge pixels repeated); 0 = none. */
  shift?: number;
}

/**
 * What to train. Every field except `out` may be omitted: it then comes from the `training`
 * section of the model's `cnnlens.json`, else from the defaults (`TRAINING_DEFAULTS`).
 */
export interface TrainingOptions {
  /** A folder with one sub-folder of PNG/JPEG images per class. Default: `training.data` of cnnlens.json. */
  data: string;
  /** The new model folder; must not exist yet. */
  out: string;
  /** head: the last layer kept (its output feeds the new head). Default: the input of the last Dense layer. */
  cutAt?: string;
  /** head: units of an optional hidden Dense (ReLU) layer in the new head; 0 = none. */
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Fraction of each class held out for validation (stratified, seeded). */
  validationSplit?: number;
  /** Seeds the split, the batch order, the head's initial weights and the augmentation. */
  seed?: number;
  /** Early stopping: stop after this many epochs without a lower validation loss; 0 = never. */
  patience?: number;
  /** fine-tune: how many of the top layers with weights to unfreeze (BatchNormalization not counted). */
  unfreeze?: number;
  /** fine-tune: unfreeze this layer and every layer after it instead. */
  fromLayer?: string;
  /** fine-tune: data augmentation; `true` = flips and shifts of up to 10 %. */
  augment?: boolean | AugmentOptions;
}

/**
 * The `training` section of `cnnlens.json`: remembered options, used when a call leaves them out
 * (`data` is absolute once loaded; in the file it is relative to the file, like `dataset`).
 */
export type TrainingDefaults = Omit<Partial<TrainingOptions>, 'out'>;

/** `TrainingOptions` with every default filled in and paths absolute. */
export interface ResolvedTrainingOptions {
  data: string;
  out: string;
  /** head: the resolved cut layer; fine-tune: null. */
  cutAt: string | null;
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  validationSplit: number;
  seed: number;
  patience: number;
  /** fine-tune: the number of layers unfrozen (also when chosen by `fromLayer`); head: 0. */
  unfreeze: number;
  /** fine-tune: the first unfrozen layer; head: null. */
  fromLayer: string | null;
  augment: { flip: boolean; shift: number };
}

export interface PlannedLayer {
  name: string;
  className: string;
  trainable: boolean;
  params: number;
}

/** Everything known before training starts (`EngineClient.planTraining`); also part of the result. */
export interface TrainingPlan {
  mode: TrainingMode;
  /** The source model file. */
  model: string;
  /** Classes in label order (head: the data's class folders; fine-tune: the model's outputs). */
  classNames: string[];
  trainImages: number;
  validationImages: number;
  trainableParams: number;
  frozenParams: number;
  /** The layers of the model that will be saved, in order (head: the kept base, then the new head). */
  layers: PlannedLayer[];
  /** head: the layer whose output feeds the new head. */
  cutAt?: string;
  /** head: shape of one feature vector at the cut (without the batch dimension). */
  featureShape?: number[];
  options: ResolvedTrainingOptions;
  /** Files and folders of the data ignored while listing (non-images, hidden files). */
  skipped: { file: string; reason: string }[];
  /** The engine backend the plan was made on (set by the engine's `planTraining` job). */
  backend?: string;
}

export interface EpochReport {
  /** 1-based. */
  epoch: number;
  /** Mean training loss (categorical cross-entropy) and accuracy over the epoch's batches. */
  loss: number;
  acc: number;
  valLoss: number;
  valAcc: number;
  /** Wall time of the epoch, validation and dead-unit count included. */
  seconds: number;
  /** Dead units (never positive on any validation image) per ReLU conv/dense layer. */
  dead: Record<string, number>;
}

/** The `detail` passed to `CallOptions.onProgress` by `trainHead` and `fineTune`. */
export type TrainingProgress =
  | { phase: 'features'; done: number; total: number }
  | { phase: 'batch'; epoch: number; batch: number; batches: number }
  | { phase: 'epoch'; report: EpochReport };

export interface TrainingResult {
  mode: TrainingMode;
  plan: TrainingPlan;
  epochs: EpochReport[];
  /** The epoch with the lowest validation loss: its weights are the ones saved. */
  best: { epoch: number; valLoss: number; valAcc: number };
  /** The new model folder (absolute), or null when nothing was written. */
  out: string | null;
  stoppedEarly: boolean;
  /** Stopped by the caller after at least one epoch (the best checkpoint so far was saved). */
  cancelled: boolean;
  /** fine-tune: the source model on the same validation split, before training. */
  before?: { valAcc: number; valLoss: number };
  seconds: number;
  backend?: string;
  /** fine-tune: training batches split with a second worker (training/dataParallel.ts); absent when none. */
  splitBatches?: number;
}

/**
 * `trainedFrom` in the `cnnlens.json` of a model made by `trainHead` / `fineTune`: where it came
 * from and how well it did. (Its hyper-parameters are its `training` section, so training it again
 * starts from the same settings.) Paths are absolute once loaded, relative to the file in it.
 */
export interface TrainedFrom {
  mode: TrainingMode;
  /** The source model file. */
  model: string;
  /** ISO date and time the model was saved. */
  date: string;
  backend?: string;
  /** head: the source layer the new head sits on. */
  cutAt?: string;
  frozenLayers: string[];
  trainableLayers: string[];
  trainImages: number;
  validationImages: number;
  metrics: {
    /** The saved weights' epoch. */
    best: { epoch: number; valLoss: number; valAcc: number };
    /** The last epoch run. */
    final: { epoch: number; loss: number; acc: number; valLoss: number; valAcc: number };
    /** fine-tune: the source model on the same validation images. */
    before?: { valAcc: number; valLoss: number };
    epochs: number;
    stoppedEarly: boolean;
    cancelled: boolean;
  };
}
