/**
 * "Compute effective RF" in the model editor: the effective-receptive-field radii of every spatial
 * layer (centre unit, all channels summed) over the first images of the model's dataset, with a
 * cancellable progress notification; the radii go to the receptive-field store, which updates
 * the editor's table and the hovers.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import { errorMessage } from '../webviewHost/wire';
import type { ReceptiveFieldStore } from './receptiveFieldStore';

/** Images the table's radii average over (Luo et al. average over a few dozen). */
export const ERF_TABLE_IMAGES = 32;

export async function computeEffectiveReceptiveFields(
  model: vscode.Uri,
  engine: EngineHost,
  store: ReceptiveFieldStore,
  log: vscode.LogOutputChannel,
  images = ERF_TABLE_IMAGES,
): Promise<void> {
  const controller = new AbortController();
  store.setComputing(model, true, `Computing over ${images} dataset images…`);
  try {
    const table = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `CNN Lens: effective receptive fields of ${path.basename(path.dirname(model.fsPath))}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        let last = 0;
        return engine.get().erfRadiiPerLayer(
          { model: model.fsPath, limit: images },
          {
            signal: controller.signal,
            onProgress: (done, total) => {
              const pct = total > 0 ? (100 * done) / total : 0;
              progress.report({ increment: pct - last, message: `${done} / ${total} images` });
              last = pct;
            },
          },
        );
      },
    );
    const radii = new Map(table.layers.map((l) => [l.layer, l.radii]));
    const notes = table.layers.filter((l) => l.note).map((l) => `${l.layer}: ${l.note}`);
    store.setEffective(model, radii, `ERF over ${table.images} images (centre unit, all channels)${notes.length ? `; ${notes.join('; ')}` : ''}`);
    log.info(`Effective receptive fields of ${model.fsPath}: ${table.layers.length} layers over ${table.images} images`);
  } catch (err) {
    if (controller.signal.aborted) {
      store.setComputing(model, false, 'Cancelled.');
      return;
    }
    const message = errorMessage(err);
    store.setComputing(model, false, message);
    log.error(`Effective receptive fields: ${message}`);
    void vscode.window.showErrorMessage(`CNN Lens: ${message}`);
  }
}
