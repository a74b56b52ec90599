/**
 * Scan results per model file: kept in memory, persisted in `workspaceState`, and dropped as
 * soon as one of their inputs changes — the model file, its weight shards, its `cnnlens.json`,
 * the dataset (size + mtime stamps, see `fingerprint.ts`) or the scan settings (dataset path,
 * sample count). After a reload, persisted results come back only if their key still matches.
 *
 * Also keeps model summaries (layer class, shapes, parameters) so hovers never need the engine.
 *
 * `deadUnitsFor(uri)` is the read-only entry point other views use (the activations view marks
 * dead channels with it).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelSummary } from '../engine/analyses/summary';
import { inputsKey, modelInputFiles } from './fingerprint';
import { loadCnnLensConfig } from '../engine/config/cnnlensConfig';
import { deadUnitsByLayer, modelKey, settingsKey, withDyingThreshold } from './logic';
import type { StoredScan } from './markdown';

const STATE_KEY = 'cnnLens.deadFilterScans.v1';
const SUMMARY_STATE_KEY = 'cnnLens.modelSummaries.v1';

export interface ScanSettingsSnapshot {
  /** Absolute dataset path the scan used / would use now (undefined: none configured). */
  dataset?: string;
  sampleCount?: number;
  /** The `cnnLens.dyingThreshold` setting when set explicitly (else cnnlens.json's applies). */
  dyingThreshold?: number;
}

interface StoredSummary {
  model: string;
  key: string;
  summary: ModelSummary;
}

/** Resolves the current scan settings of a model without prompting (for validation). */
export type SettingsResolver = (modelFile: string) => Promise<ScanSettingsSnapshot>;

export class ScanResultsStore implements vscode.Disposable {
  private readonly scans = new Map<string, StoredScan>();
  private readonly summaries = new Map<string, StoredSummary>();
  private readonly watchers = new Map<string, vscode.Disposable[]>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri | undefined>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires with the model's URI when its results change (undefined: several changed). */
  readonly onDidChange = this.emitter.event;
  /** Resolves once persisted results have been validated. */
  readonly ready: Promise<void>;

  constructor(
    private readonly state: vscode.Memento,
    private readonly resolveSettings: SettingsResolver,
    private readonly log?: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.emitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('cnnLens.dataset') || e.affectsConfiguration('cnnLens.sampleCount')) {
          for (const s of this.scans.values()) this.scheduleCheck(s.model);
        }
        if (e.affectsConfiguration('cnnLens.dyingThreshold')) {
          void this.applyDyingThreshold().catch((err) => this.log?.warn(`Applying the dying threshold: ${err}`));
        }
      }),
    );
    this.ready = this.restore().catch((err) => this.log?.warn(`Could not restore scan results: ${err}`));
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  get(model: vscode.Uri | string): StoredScan | undefined {
    return this.scans.get(modelKey(fsPathOf(model)));
  }

  all(): StoredScan[] {
    return [...this.scans.values()];
  }

  summary(model: vscode.Uri | string): ModelSummary | undefined {
    return this.summaries.get(modelKey(fsPathOf(model)))?.summary;
  }

  allSummaries(): { model: string; summary: ModelSummary }[] {
    return [...this.summaries.values()].map((s) => ({ model: s.model, summary: s.summary }));
  }

  /** Dead unit indices per layer from the last valid scan of `model`, or undefined when not scanned. */
  deadUnitsFor(model: vscode.Uri | string): Record<string, number[]> | undefined {
    const s = this.get(model);
    return s ? deadUnitsByLayer(s.report) : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /** Stores a scan; `settings` are those it ran with (they are part of its validity key). */
  async setScan(scan: Omit<StoredScan, 'key'>, settings: ScanSettingsSnapshot): Promise<StoredScan> {
    const key = await this.keyFor(scan.model, { dataset: settings.dataset ?? scan.report.dataset.path, sampleCount: settings.sampleCount });
    // The report can list thousands of skipped files; keep what the report view shows.
    const report = { ...scan.report, skipped: scan.report.skipped.slice(0, 200) };
    const stored: StoredScan = { ...scan, report, key };
    const k = modelKey(scan.model);
    this.scans.set(k, stored);
    this.watch(stored);
    await this.persist();
    this.emitter.fire(vscode.Uri.file(scan.model));
    return stored;
  }

  async setSummary(model: vscode.Uri | string, summary: ModelSummary): Promise<void> {
    const file = fsPathOf(model);
    const key = await inputsKey(file, undefined);
    this.summaries.set(modelKey(file), { model: file, key, summary });
    this.watchModel(file);
    await this.persist();
    this.emitter.fire(vscode.Uri.file(file));
  }

  async invalidate(model: vscode.Uri | string, reason = 'invalidated'): Promise<void> {
    const file = fsPathOf(model);
    const k = modelKey(file);
    const had = this.scans.delete(k);
    const hadSummary = this.summaries.delete(k);
    if (!had && !hadSummary) return;
    this.log?.info(`Scan results of ${file} dropped (${reason})`);
    this.unwatch(k);
    await this.persist();
    this.emitter.fire(vscode.Uri.file(file));
  }

  async clear(): Promise<void> {
    this.scans.clear();
    this.summaries.clear();
    for (const k of [...this.watchers.keys()]) this.unwatch(k);
    await this.persist();
    this.emitter.fire(undefined);
  }

  /** Re-derives every stored scan's dying units with the threshold that now applies to its model. */
  private async applyDyingThreshold(): Promise<void> {
    let changed = false;
    for (const [k, s] of this.scans) {
      const settings = await this.resolveSettings(s.model).catch(() => ({}) as ScanSettingsSnapshot);
      const threshold = settings.dyingThreshold ?? (await loadCnnLensConfig(s.model).catch(() => undefined))?.dyingThreshold ?? s.report.dyingThreshold;
      if (threshold === s.report.dyingThreshold) continue;
      this.scans.set(k, { ...s, report: withDyingThreshold(s.report, threshold) });
      this.log?.info(`Dying units of ${s.model} re-derived with threshold ${threshold}`);
      changed = true;
    }
    if (!changed) return;
    await this.persist();
    this.emitter.fire(undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Validity

  private async keyFor(modelFile: string, settings: ScanSettingsSnapshot): Promise<string> {
    return `${await inputsKey(modelFile, settings.dataset)}\n${settingsKey(settings)}`;
  }

  /** The key the stored scan would have now (dataset from the settings, else the one it used). */
  private async currentKey(stored: StoredScan): Promise<string> {
    const settings = await this.resolveSettings(stored.model).catch(() => ({}) as ScanSettingsSnapshot);
    return this.keyFor(stored.model, { dataset: settings.dataset ?? stored.report.dataset.path, sampleCount: settings.sampleCount });
  }

  /** Re-checks one model's results now; drops what no longer matches its inputs. */
  async check(modelFile: string): Promise<void> {
    const k = modelKey(modelFile);
    const scan = this.scans.get(k);
    const summary = this.summaries.get(k);
    let changed = false;
    if (scan && (await this.currentKey(scan)) !== scan.key) {
      this.scans.delete(k);
      changed = true;
      this.log?.info(`Scan results of ${modelFile} are out of date (model, config or dataset changed)`);
    }
    if (summary && (await inputsKey(summary.model, undefined)) !== summary.key) {
      this.summaries.delete(k);
      changed = true;
    }
    if (!changed) return;
    if (!this.scans.has(k) && !this.summaries.has(k)) this.unwatch(k);
    else if (!this.scans.has(k)) this.unwatch(k, true);
    await this.persist();
    this.emitter.fire(vscode.Uri.file(modelFile));
  }

  private scheduleCheck(modelFile: string): void {
    const k = modelKey(modelFile);
    clearTimeout(this.pending.get(k));
    this.pending.set(
      k,
      setTimeout(() => {
        this.pending.delete(k);
        void this.check(modelFile).catch((err) => this.log?.warn(`Checking scan results of ${modelFile}: ${err}`));
      }, 300),
    );
  }

  private async restore(): Promise<void> {
    const scans = this.state.get<StoredScan[]>(STATE_KEY, []);
    const summaries = this.state.get<StoredSummary[]>(SUMMARY_STATE_KEY, []);
    let dropped = 0;
    for (const s of summaries) {
      if (s?.model && (await inputsKey(s.model, undefined).catch(() => '')) === s.key) {
        this.summaries.set(modelKey(s.model), s);
        this.watchModel(s.model);
      } else dropped++;
    }
    for (const s of scans) {
      if (s?.model && s.report && (await this.currentKey(s).catch(() => '')) === s.key) {
        this.scans.set(modelKey(s.model), s);
        this.watch(s);
      } else dropped++;
    }
    if (dropped) await this.persist();
    if (this.scans.size || this.summaries.size) {
      this.log?.info(`Restored scan results of ${this.scans.size} model(s)${dropped ? `; ${dropped} out of date dropped` : ''}`);
      this.emitter.fire(undefined);
    }
  }

  private async persist(): Promise<void> {
    await this.state.update(STATE_KEY, [...this.scans.values()]);
    await this.state.update(SUMMARY_STATE_KEY, [...this.summaries.values()]);
  }

  // -------------------------------------------------------------------------------------------
  // Watchers

  private watchModel(modelFile: string): void {
    const k = modelKey(modelFile);
    if (this.watchers.has(k)) return;
    // Model, shards and cnnlens.json live in the model's folder: one non-recursive watcher.
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(modelFile)), '*'));
    const relevant = modelInputFiles(modelFile).then((files) => new Set(files.map((f) => modelKey(f))));
    const onEvent = (uri: vscode.Uri) =>
      void relevant.then((set) => {
        if (set.has(modelKey(uri.fsPath))) this.scheduleCheck(modelFile);
      });
    this.watchers.set(k, [w, w.onDidChange(onEvent), w.onDidCreate(onEvent), w.onDidDelete(onEvent)]);
  }

  private watch(stored: StoredScan): void {
    this.watchModel(stored.model);
    const k = modelKey(stored.model);
    const list = this.watchers.get(k)!;
    const dataset = stored.report.dataset.path;
    if (!dataset || list.some((d) => (d as { datasetPath?: string }).datasetPath === dataset)) return;
    const base = stored.report.dataset.kind === 'idx' ? path.dirname(dataset) : dataset;
    const glob = stored.report.dataset.kind === 'idx' ? '*' : '**/*';
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(base), glob));
    const onEvent = () => this.scheduleCheck(stored.model);
    const group = Object.assign(vscode.Disposable.from(w, w.onDidChange(onEvent), w.onDidCreate(onEvent), w.onDidDelete(onEvent)), {
      datasetPath: dataset,
    });
    list.push(group);
  }

  private unwatch(k: string, datasetOnly = false): void {
    const list = this.watchers.get(k);
    if (!list) return;
    if (datasetOnly) {
      const keep = list.filter((d) => !(d as { datasetPath?: string }).datasetPath);
      for (const d of list) if (!keep.includes(d)) d.dispose();
      this.watchers.set(k, keep);
      return;
    }
    for (const d of list) d.dispose();
    this.watchers.delete(k);
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const k of [...this.watchers.keys()]) this.unwatch(k);
    for (const d of this.disposables) d.dispose();
  }
}

function fsPathOf(model: vscode.Uri | string): string {
  return typeof model === 'string' ? model : model.fsPath;
}

// ---------------------------------------------------------------------------------------------
// Module-level access for other features (wired by the lead)

let current: ScanResultsStore | undefined;

export function setCurrentStore(store: ScanResultsStore | undefined): void {
  current = store;
}

export function currentStore(): ScanResultsStore | undefined {
  return current;
}

/**
 * Dead units per layer of `modelUri` from its last valid scan (layers without dead units are
 * omitted), or undefined when the model has not been scanned (or its results are out of date).
 */
export function deadUnitsFor(modelUri: vscode.Uri): Record<string, number[]> | undefined {
  return current?.deadUnitsFor(modelUri);
}
