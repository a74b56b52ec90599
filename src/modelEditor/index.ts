/** Registers the "CNN Lens" model editor and its test-facing state command. */
import * as vscode from 'vscode';
import { MODEL_EDITOR_VIEW_TYPE, ModelEditorProvider, type ModelEditorDeps } from './modelEditorProvider';

export { MODEL_EDITOR_VIEW_TYPE, type ModelEditorDeps, type ModelEditorStateSummary } from './modelEditorProvider';

/**
 * The same editor for Keras files. A contribution has one priority, so the editor is contributed
 * twice: `cnnLens.modelEditor` ("option" for model.json, which stays a text file by default) and
 * this one ("default" for .h5 / .hdf5 / .keras, which have no useful text view).
 */
export const BINARY_MODEL_EDITOR_VIEW_TYPE = 'cnnLens.modelEditor.binary';

/** Internal command (not in the palette): the open model editors' state, for tests. */
export const MODEL_EDITOR_STATE_COMMAND = 'cnnLens._modelEditorState';

export function registerModelEditor(deps: ModelEditorDeps): vscode.Disposable {
  const provider = new ModelEditorProvider(deps);
  return vscode.Disposable.from(
    ...[MODEL_EDITOR_VIEW_TYPE, BINARY_MODEL_EDITOR_VIEW_TYPE].map((viewType) =>
      vscode.window.registerCustomEditorProvider(viewType, provider, {
        supportsMultipleEditorsPerDocument: true,
        webviewOptions: { retainContextWhenHidden: false },
      }),
    ),
    vscode.commands.registerCommand(MODEL_EDITOR_STATE_COMMAND, () => provider.states()),
  );
}
