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
  | { type: 'deadUnits'; deadUnits: DeadUnits | null };

export type ActivationsWebviewMessage =
  | CommonWebviewMessage
  /** Show this layer (a name from the last `image` message). */
  | { type: 'selectLayer'; layer: string }
  /** Load item `index` of the model's dataset. */
  | { type: 'selectDatasetImage'; index: number }
  /** Ask the host to show an open-file dialog for an image (the path never comes from the webview). */
  | { type: 'pickImageFile' }
  /** The webview drew `canvases` feature maps of `layer` (tests and logs use it). */
  | { type: 'rendered'; layer: string; canvases: number };

export type ChannelSortKey = 'index' | 'mean' | 'max' | 'zeros';

export interface ActivationsWebviewState {
  panelId?: string;
  layer?: string;
  sort?: ChannelSortKey;
  descending?: boolean;
  selectedChannel?: number;
}
