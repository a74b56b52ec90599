/** Messages between the Activations view (webview panel) and the host. */
import type { CommonHostMessage, CommonWebviewMessage, DeadUnits, WireLayerActivations } from './common';

/** A layer whose feature maps the view can show. */
export interface ActivationLayerInfo {
  name: string;
  className: string;
  /** One image's output shape, e.g. `[26, 26, 32]` or `[10]`. */
  shape: number[];
  channels: number;
}

export interface ActivationImageInfo {
  /** Display title: a workspace-relative file name, or "dataset image #12". */
  title: string;
  source: 'file' | 'dataset';
  /** Dataset index, for `source: 'dataset'`. */
  index?: number;
  /** Class index and name, when the image came from a labelled dataset. */
  label?: number;
  className?: string;
}

export type ActivationsHostMessage =
  | CommonHostMessage
  | {
      type: 'context';
      /** Opaque id of this panel (for state restore); never a path. */
      panelId: string;
      modelName: string;
      backend?: string;
      /** The model's dataset: the view offers picking an image by index (null: none configured). */
      dataset: { size: number; classNames?: string[] } | null;
    }
  | {
      type: 'image';
      requestId: number;
      image: ActivationImageInfo;
      /** The preprocessed input image, HWC. */
      input: Float32Array;
      inputShape: [number, number, number];
      layers: ActivationLayerInfo[];
    }
  | {
      type: 'layer';
      requestId: number;
      activations: WireLayerActivations;
      /** Channels of this layer marked dead by the last scan. */
      dead: number[];
    }
  | { type: 'deadUnits'; deadUnits: DeadUnits | null }
  /** The engine is computing the receptive field of the selected unit. */
  | { type: 'receptiveFieldLoading'; layer: string; channel: number; unit: [number, number]; images: number }
  /** The selected unit's receptive field over the input image (`requestId` of its `image`). */
  | { type: 'receptiveField'; requestId: number; erf: WireEffectiveReceptiveField }
  | { type: 'receptiveFieldError'; message: string };

/**
 * The effective receptive field of one unit (`src/engine/analyses/effectiveReceptiveField.ts`
 * `ErfResult`): |∂unit/∂input| over the input, normalised to max 1, with the radii around its
 * centre holding a fraction of the mass, and the theoretical receptive field as a box.
 */
export interface WireEffectiveReceptiveField {
  layer: string;
  channel: number | null;
  unit: [number, number];
  outputSize: [number, number];
  inputSize: [number, number];
  /** Images the gradient was averaged over. */
  images: number;
  /** `inputH * inputW` values, max 1. */
  heatmap: Float32Array;
  centre: [number, number];
  radii: { fraction: number; radius: number }[];
  theoretical?: {
    size: [number, number];
    stride: [number, number];
    padding: [number, number];
    /** `[top, left, bottom, right]` in input pixels, inclusive; may reach outside the image. */
    box: [number, number, number, number];
  };
  /** Why the result is partial or empty (a dead unit, images left out). */
  note?: string;
}

/** Largest number of dataset images the view may ask the ERF to average over. */
export const MAX_ERF_IMAGES = 1000;

export type ActivationsWebviewMessage =
  | CommonWebviewMessage
  /** Show this layer (a name from the last `image` message). */
  | { type: 'selectLayer'; layer: string }
  /** Load item `index` of the model's dataset. */
  | { type: 'selectDatasetImage'; index: number }
  /** Ask the host to show an open-file dialog for an image (the path never comes from the webview). */
  | { type: 'pickImageFile' }
  /** The webview drew `canvases` feature maps of `layer` (tests and logs use it). */
  | { type: 'rendered'; layer: string; canvases: number }
  /**
   * Unit `unit` = [y, x] of `channel` of `layer` selected: show its receptive field over the
   * input image, the gradient averaged over the shown image (`images` 0) or over the first
   * `images` dataset images.
   */
  | { type: 'selectUnit'; layer: string; channel: number; unit: [number, number]; images: number }
  /** The webview drew the receptive-field overlay of this unit (tests and logs use it). */
  | { type: 'overlayRendered'; layer: string; channel: number; unit: [number, number]; box: boolean; heatmap: boolean };

export type ChannelSortKey = 'index' | 'mean' | 'max' | 'zeros';

export interface ActivationsWebviewState {
  panelId?: string;
  layer?: string;
  sort?: ChannelSortKey;
  descending?: boolean;
  selectedChannel?: number;
  /** Selected unit [y, x] of the enlarged channel (receptive-field overlay). */
  selectedUnit?: [number, number];
  /** Dataset images the ERF averages over (0: the shown image). */
  erfImages?: number;
  /** Overlay the ERF heat map (the box is always drawn). */
  showHeatmap?: boolean;
}
