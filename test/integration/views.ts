/**
 * Helpers shared by the integration tests: the test workspace, its sample model and images,
 * polling the model editor's state, and capturing the error messages the extension shows.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelEditorStateSummary } from '../../src/modelEditor';
import { modelUnderTest } from '../e2e/sampleModel';

export const EXTENSION_ID = 'cnn-lens.cnn-lens';

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need a workspace folder');
  return folder.uri.fsPath;
}

export function sampleModel(): vscode.Uri {
  return vscode.Uri.file(path.join(workspaceDir(), modelUnderTest(workspaceDir())));
}

/** A PNG from the sample dataset copied into the workspace (`data/fashion-mnist-1000/<class>/*.png`). */
export function sampleImage(): vscode.Uri {
  const root = path.join(workspaceDir(), 'data/fashion-mnist-1000');
  assert.ok(existsSync(root), `${root} is missing: the sample images are needed`);
  const cls = readdirSync(root).filter((d) => !d.startsWith('.')).sort()[0];
  const file = readdirSync(path.join(root, cls)).filter((f) => f.endsWith('.png')).sort()[0];
  return vscode.Uri.file(path.join(root, cls, file));
}

export async function activate(): Promise<void> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  await ext.activate();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cnnLens._modelEditorState` until the editor of `uri` is no longer loading. */
export async function editorState(uri: vscode.Uri, timeoutMs = 90_000): Promise<ModelEditorStateSummary> {
  const deadline = Date.now() + timeoutMs;
  let last: ModelEditorStateSummary | undefined;
  while (Date.now() < deadline) {
    const states = (await vscode.commands.executeCommand<ModelEditorStateSummary[]>('cnnLens._modelEditorState')) ?? [];
    last = states.find((s) => path.resolve(s.model) === path.resolve(uri.fsPath));
    if (last && last.webviewReady && last.status !== 'loading') return last;
    await sleep(250);
  }
  assert.fail(`the model editor of ${uri.fsPath} did not finish loading: ${JSON.stringify(last)}`);
}

/**
 * Records the error messages shown while `fn` runs. The test modules live inside the extension's
 * folder, so `require('vscode')` gives them the extension's own API object: wrapping its
 * `window.showErrorMessage` sees the extension's calls.
 */
export async function capturingErrors<T>(fn: () => Thenable<T>): Promise<{ value: T; errors: string[] }> {
  const window = vscode.window as { showErrorMessage: (...args: unknown[]) => unknown };
  const original = window.showErrorMessage;
  const errors: string[] = [];
  window.showErrorMessage = (...args: unknown[]) => {
    errors.push(String(args[0]));
    return original.apply(vscode.window, args);
  };
  try {
    return { value: await fn(), errors };
  } finally {
    window.showErrorMessage = original;
  }
}
