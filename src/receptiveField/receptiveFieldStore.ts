/**
 * Receptive fields per model for the model editor's table and the layer hovers: the theoretical
 * fields (computed by the engine from the layer configs when a model editor loads the model) and
 * the effective-field radii once the user asks for them (they need the dataset). Kept in memory
 * per model file; a hover reads only what is here and never starts the engine.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { WireLayerReceptiveField } from '../protocol';
import { receptiveFieldHoverLine } from './format';

interface Entry {
  /** Model file mtime when computed: a changed file drops the entry. */
  stamp: number;
  layers: WireLayerReceptiveField[];
  erf: 'none' | 'computing' | 'done';
  note?: string;
}

export class ReceptiveFieldStore implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  /** Fires with the model whose fields (or ERF radii) changed. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly engine: EngineHost,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    this.changed.dispose();
  }

  private static async stamp(model: vscode.Uri): Promise<number> {
    try {
      return (await vscode.workspace.fs.stat(model)).mtime;
    } catch {
      return 0;
    }
  }

  /** What is known now (no engine call): for hovers. */
  peek(model: vscode.Uri): { layers: WireLayerReceptiveField[]; erf: Entry['erf']; note?: string } | undefined {
    const e = this.entries.get(model.fsPath);
    return e && { layers: e.layers, erf: e.erf, note: e.note };
  }

  /** The theoretical fields of every layer, computed once per version of the model file. */
  async theoretical(model: vscode.Uri): Promise<{ layers: WireLayerReceptiveField[]; erf: Entry['erf']; note?: string }> {
    const key = model.fsPath;
    const stamp = await ReceptiveFieldStore.stamp(model);
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp) return hit;
    let job = this.pending.get(key);
    if (!job) {
      job = this.engine
        .get()
        .receptiveField(key)
        .then((report): Entry => {
          const entry: Entry = {
            stamp,
            erf: 'none',
            layers: report.layers.map((l) => ({ name: l.name, size: l.size, stride: l.stride, padding: l.padding, aligned: l.aligned, ...(l.note ? { note: l.note } : {}) })),
          };
          this.entries.set(key, entry);
          this.changed.fire(model);
          return entry;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, job);
    }
    return job;
  }

  /** Records ERF radii per layer (from "Compute effective RF"). */
  setEffective(model: vscode.Uri, radii: Map<string, { fraction: number; radius: number }[]>, note?: string): void {
    const e = this.entries.get(model.fsPath);
    if (!e) return;
    e.layers = e.layers.map((l) => (radii.has(l.name) ? { ...l, erfRadii: radii.get(l.name) } : l));
    e.erf = 'done';
    e.note = note;
    this.changed.fire(model);
  }

  setComputing(model: vscode.Uri, computing: boolean, note?: string): void {
    const e = this.entries.get(model.fsPath);
    if (!e) return;
    e.erf = computing ? 'computing' : e.layers.some((l) => l.erfRadii) ? 'done' : 'none';
    e.note = note;
    this.changed.fire(model);
  }

  /** The hover line for `layer` of `model` (a path), when its fields are known. */
  hoverLine(model: string, layer: string): string | undefined {
    const rf = this.entries.get(model)?.layers.find((l) => l.name === layer);
    if (!rf) return undefined;
    try {
      return receptiveFieldHoverLine(rf);
    } catch (err) {
      this.log.warn(`Receptive field hover for ${layer}: ${err instanceof Error ? err.message : err}`);
      return undefined;
    }
  }
}
