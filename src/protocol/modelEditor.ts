/** Messages between the "CNN Lens" model editor (custom editor) and its webview. */
import type { CommonHostMessage, CommonWebviewMessage, DeadUnits, WireDatasetInfo, WireModelSummary } from './common';

export type ModelEditorHostMessage =
  | CommonHostMessage
  | {
      type: 'model';
      fileName: string;
      /** Backend the engine runs on (`wasm`, `tensorflow`, `cpu`). */
      backend: string;
      summary: WireModelSummary;
    }
  /** The dataset configured for the model, or why there is none. */
  | { type: 'dataset'; dataset: WireDatasetInfo | null; note?: string }
  /** Dead units from the last scan (null: not scanned or out of date). */
  | { type: 'deadUnits'; deadUnits: DeadUnits | null }
  /** Receptive fields per layer; ERF radii appear once computed ("Compute effective RF"). */
  | { type: 'receptiveFields'; layers: WireLayerReceptiveField[]; erf: 'none' | 'computing' | 'done'; note?: string };

/** One layer's receptive field (theoretical, and effective when computed). */
export interface WireLayerReceptiveField {
  name: string;
  /** Theoretical receptive field in input pixels [h, w]. */
  size: [number, number];
  /** Distance between neighbouring units' fields in input pixels ("jump") [h, w]. */
  stride: [number, number];
  /** Input pixels the field reaches outside the image at the top / left [h, w]. */
  padding: [number, number];
  /** The layer's units sit on a regular grid of the input (false after e.g. global pooling). */
  aligned: boolean;
  note?: string;
  /** Effective receptive field radii in input pixels (mass fraction → radius), when computed. */
  erfRadii?: { fraction: number; radius: number }[];
}

export type ModelEditorWebviewMessage =
  | CommonWebviewMessage
  /** Open the Activations view for this model, at `layer` when given (a name the host sent). */
  | { type: 'openActivations'; layer?: string }
  | { type: 'openFilters'; layer?: string }
  | { type: 'scanDeadFilters' }
  | { type: 'openEmbedding'; layer?: string }
  /** Compute the effective receptive field radii of every layer (needs the dataset). */
  | { type: 'computeEffectiveRf' }
  | { type: 'reload' };

/** What the model editor's webview keeps with `vscode.setState` (survives hide and reload). */
export interface ModelEditorWebviewState {
  scrollTop?: number;
  activeRow?: number;
}
