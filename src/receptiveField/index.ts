/**
 * Receptive fields in VS Code: the per-model store behind the model editor's RF columns and the
 * layer hovers, and an internal command (not in the palette; tests and the model editor's
 * "Compute effective RF" use the same path) that computes the effective-field radii of a model.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { WireLayerReceptiveField } from '../protocol';
import { computeEffectiveReceptiveFields } from './effectiveRadii';
import { ReceptiveFieldStore } from './receptiveFieldStore';

export { ReceptiveFieldStore } from './receptiveFieldStore';

/** Internal: `(model: Uri) → { layers, erf, note }` after computing the model's ERF radii. */
export const COMPUTE_EFFECTIVE_RF_COMMAND = 'cnnLens._computeEffectiveReceptiveFields';

export function registerReceptiveFields(context: vscode.ExtensionContext, engine: EngineHost, log: vscode.LogOutputChannel): ReceptiveFieldStore {
  const store = new ReceptiveFieldStore(engine, log);
  context.subscriptions.push(
    store,
    vscode.commands.registerCommand(
      COMPUTE_EFFECTIVE_RF_COMMAND,
      async (model: unknown): Promise<{ layers: WireLayerReceptiveField[]; erf: string; note?: string } | undefined> => {
        if (!(model instanceof vscode.Uri) || model.scheme !== 'file') return undefined;
        await store.theoretical(model);
        await computeEffectiveReceptiveFields(model, engine, store, log);
        return store.peek(model);
      },
    ),
  );
  return store;
}
