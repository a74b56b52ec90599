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
  | { type: 'deadUnits'; deadUnits: DeadUnits | null };

export type ModelEditorWebviewMessage =
  | CommonWebviewMessage
  /** Open the Activations view for this model, at `layer` when given (a name the host sent). */
  | { type: 'openActivations'; layer?: string }
  | { type: 'openFilters'; layer?: string }
  | { type: 'scanDeadFilters' }
  | { type: 'reload' };

/** What the model editor's webview keeps with `vscode.setState` (survives hide and reload). */
export interface ModelEditorWebviewState {
  scrollTop?: number;
  activeRow?: number;
}
