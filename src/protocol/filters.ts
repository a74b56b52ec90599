/** Messages between the Filters view (webview panel) and the host. */
import type { CommonHostMessage, CommonWebviewMessage, WireFilterTiles } from './common';

export type FiltersHostMessage =
  | CommonHostMessage
  | {
      type: 'filters';
      panelId: string;
      modelName: string;
      backend: string;
      layers: WireFilterTiles[];
      /** Layer to show first (a command argument), when given. */
      selectedLayer?: string;
    };

export type FiltersWebviewMessage =
  | CommonWebviewMessage
  /** Open the Activations view of this model at `layer`. */
  | { type: 'openActivations'; layer: string };

export interface FiltersWebviewState {
  panelId?: string;
  layer?: string;
}
