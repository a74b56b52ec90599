/**
 * Disposable helpers for panels and editors (in the style of vscode-extension-samples'
 * `src/dispose.ts`): an owner registers what it creates and disposes it all once.
 */
import type * as vscode from 'vscode';

export function disposeAll(disposables: vscode.Disposable[]): void {
  while (disposables.length) {
    const d = disposables.pop();
    try {
      d?.dispose();
    } catch {
      // one failing disposable must not keep the others alive
    }
  }
}

export abstract class Disposable implements vscode.Disposable {
  private disposed = false;
  protected readonly disposables: vscode.Disposable[] = [];

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this.disposables);
  }

  protected register<T extends vscode.Disposable>(value: T): T {
    if (this.disposed) value.dispose();
    else this.disposables.push(value);
    return value;
  }
}
