/**
 * Messages between the Embedding view (webview panel) and the host. A view has one or two panes
 * (pane 1 is the "Compare…" pane: another layer of the same model, or another model). The
 * webview names panes, layers the host listed and point indices; it never sees a dataset path
 * (the host renders titles, and an engine worker thumbnails, from its own item ids) and never sends one.
 */
import type { CommonHostMessage, CommonWebviewMessage } from './common';

export type WireEmbedMethod = 'tsne' | 'pca' | 'umap';
export const EMBED_METHODS: readonly WireEmbedMethod[] = ['tsne', 'pca', 'umap'];

export type PaneIndex = 0 | 1;

/** Settings shared by both panes (a comparison uses the same method and parameters). */
export interface EmbeddingSettings {
  method: WireEmbedMethod;
  /** Use N images spread evenly over the dataset. */
  limit: number;
  /** t-SNE only. */
  perplexity: number;
  /** t-SNE (and UMAP) optimisation steps. */
  iterations: number;
  /** UMAP only. */
  neighbors: number;
  minDist: number;
}

/** Bounds the host accepts (and the webview's controls offer). */
export const EMBEDDING_LIMITS = {
  limit: [10, 100_000],
  perplexity: [2, 100],
  iterations: [10, 5000],
  neighbors: [2, 200],
  minDist: [0, 1],
} as const;

export const DEFAULT_EMBEDDING_SETTINGS: EmbeddingSettings = {
  method: 'tsne',
  limit: 1000,
  perplexity: 30,
  iterations: 500,
  neighbors: 15,
  minDist: 0.1,
};

/** A layer the user may embed. */
export interface EmbeddingLayerInfo {
  name: string;
  className: string;
  /** One image's output shape. */
  shape: (number | null)[];
}

/** What a pane shows about its model and dataset (display text only). */
export interface EmbeddingPaneInfo {
  pane: PaneIndex;
  /** Workspace-relative model file. */
  modelName: string;
  layers: EmbeddingLayerInfo[];
  /** The layer asked for (undefined: the engine's default, the penultimate layer). */
  layer?: string;
  /** Workspace-relative dataset location and size. */
  datasetLabel: string;
  datasetSize: number;
}

/** A finished embedding. Points are `x0, y0, x1, y1, …`. */
export interface WireEmbedding {
  method: WireEmbedMethod;
  layer: string;
  /** Dimension of the layer's (flattened) features. */
  dims: number;
  points: Float32Array;
  /** True class per point (null: unlabelled dataset). */
  labels: Int32Array | null;
  predicted: Int32Array;
  classNames: string[] | null;
  /** Leave-one-out 10-NN accuracy of the true labels in the 2-D map (null: unlabelled). */
  knnAccuracy: number | null;
  trustworthiness: number;
  trustworthinessSample: number;
  seconds: number;
}

export type EmbeddingHostMessage =
  | CommonHostMessage
  /** Nothing is computing and there is no result: a hint for the user (no progress shown). */
  | { type: 'idle'; message: string }
  | {
      type: 'context';
      /** Opaque id of this panel (for state restore); never a path. */
      panelId: string;
      backend?: string;
      settings: EmbeddingSettings;
      panes: EmbeddingPaneInfo[];
    }
  /** Pane `pane` started computing (`iterations` is 0 for methods without frames). */
  | { type: 'running'; pane: PaneIndex; method: WireEmbedMethod; layer?: string; iterations: number }
  /** An intermediate t-SNE layout (the webview animates it). */
  | { type: 'frame'; pane: PaneIndex; iteration: number; iterations: number; points: Float32Array }
  | {
      type: 'embedding';
      pane: PaneIndex;
      embedding: WireEmbedding;
      /** Both panes hold the same images in the same order: selection is linked between them. */
      linked: boolean;
    }
  | { type: 'cancelled'; pane: PaneIndex }
  | { type: 'paneError'; pane: PaneIndex; message: string }
  /** The comparison pane was removed. */
  | { type: 'paneClosed'; pane: PaneIndex }
  /** Answer to `hoverPoint`: a small PNG of the image and what the host knows about it. */
  | {
      type: 'pointInfo';
      pane: PaneIndex;
      index: number;
      requestId: number;
      /** `data:image/png;base64,…` (empty when the image could not be read). */
      thumbnail: string;
      /** File name (workspace-relative) or "dataset image #i". */
      title: string;
      /** Why there is no thumbnail, when there is none. */
      note?: string;
    };

export type EmbeddingWebviewMessage =
  | CommonWebviewMessage
  /**
   * Compute the panes again with these settings; `layers[i]` is pane i's layer (a name the host
   * listed for it; null: the engine's default).
   */
  | { type: 'run'; settings: EmbeddingSettings; layers: (string | null)[] }
  | { type: 'cancel' }
  /** The pointer rests on point `index` of pane `pane`: the host answers with `pointInfo`. */
  | { type: 'hoverPoint'; pane: PaneIndex; index: number; requestId: number }
  /** Open the image behind point `index` (a file in the editor; an IDX record in the Activations view). */
  | { type: 'openPoint'; pane: PaneIndex; index: number }
  /** Ask the host to add a comparison pane (it shows a QuickPick: another layer or another model). */
  | { type: 'compare' }
  | { type: 'closeCompare' }
  /** The webview drew `points` points of pane `pane` (tests and logs use it). */
  | { type: 'rendered'; pane: PaneIndex; points: number; final: boolean };

export interface EmbeddingWebviewState {
  panelId?: string;
  /** Classes hidden in the legend, per pane. */
  hidden?: number[][];
  highlightMisclassified?: boolean;
}
