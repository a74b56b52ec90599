/**
 * Messages between the Training view (webview panel) and the host. The view shows one training
 * run: the plan (classes, images, trainable vs frozen parameters), live curves per epoch, and the
 * outcome. It never names a path: "Open model" and "Compare embeddings" act on the run the host
 * owns. The wire types mirror `src/engine/training/types.ts` structurally (checked where the host
 * converts, `src/training/trainingWire.ts`).
 */
import type { CommonHostMessage, CommonWebviewMessage } from './common';

export type WireTrainingMode = 'head' | 'fine-tune';

export interface WireTrainingLayer {
  name: string;
  className: string;
  trainable: boolean;
  params: number;
}

export interface WireTrainingPlan {
  mode: WireTrainingMode;
  classNames: string[];
  trainImages: number;
  validationImages: number;
  trainableParams: number;
  frozenParams: number;
  layers: WireTrainingLayer[];
  /** Head mode: the last layer of the base model kept (its output feeds the new head). */
  cutAt?: string;
}

/** Metrics of one finished epoch (`epoch` counts from 1). */
export interface WireEpochReport {
  epoch: number;
  loss: number;
  acc: number;
  valLoss: number;
  valAcc: number;
  seconds: number;
  /** Dead units per layer after this epoch. */
  dead: Record<string, number>;
}

export type TrainingStatus = 'starting' | 'running' | 'finished' | 'cancelled' | 'failed' | 'interrupted';

export interface WireTrainingOutcome {
  best: { epoch: number; valLoss: number; valAcc: number };
  /** Validation accuracy of the model before training (when the engine could measure it). */
  before?: { valAcc: number };
  stoppedEarly: boolean;
  cancelled: boolean;
  /** Display name of the saved model folder; null when nothing was saved. */
  outLabel: string | null;
  seconds: number;
  /** The embedding view's compare mode is installed (`cnnLens.showEmbedding`). */
  canCompare: boolean;
}

export type TrainingHostMessage =
  | CommonHostMessage
  | {
      type: 'context';
      /** Opaque id of this panel (for state restore); never a path. */
      panelId: string;
      title: string;
      mode: WireTrainingMode;
      modelLabel: string;
      dataLabel: string;
      outLabel: string;
      /** The run's settings as display pairs ("Epochs", "10"). */
      settings: { name: string; value: string }[];
      plan: WireTrainingPlan;
      totalEpochs: number;
    }
  /** Every finished epoch so far (small: a few numbers per epoch), replacing the previous list. */
  | { type: 'epochs'; epochs: WireEpochReport[] }
  /** What the engine is doing now; `fraction` of the whole run in [0, 1]. */
  | { type: 'progress'; message: string; fraction: number }
  | { type: 'status'; status: TrainingStatus; message?: string; outcome?: WireTrainingOutcome };

export type TrainingWebviewMessage =
  | CommonWebviewMessage
  /** Stop at the next batch boundary (the best checkpoint so far is kept). */
  | { type: 'cancel' }
  /** Open the trained model in the CNN Lens editor. */
  | { type: 'openModel' }
  /** Show the embeddings of the base and the trained model side by side. */
  | { type: 'compareEmbeddings' }
  /** The curves now show `epochs` epochs (tests and logs use it). */
  | { type: 'rendered'; epochs: number };

export interface TrainingWebviewState {
  panelId?: string;
}
