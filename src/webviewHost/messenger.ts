/**
 * A typed channel to one webview: `post` accepts only the view's host messages, incoming
 * messages go through the view's validator first and invalid ones are dropped (and logged).
 * Typed arrays in posted messages cross as binary (VS Code transfers ArrayBuffers).
 */
import type * as vscode from 'vscode';

export class WebviewMessenger<Out extends { type: string }, In extends { type: string }> implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly webview: vscode.Webview,
    validate: (raw: unknown) => In | undefined,
    handler: (msg: In) => void | Promise<void>,
    private readonly log: vscode.LogOutputChannel,
    private readonly viewName: string,
  ) {
    this.subscription = webview.onDidReceiveMessage((raw: unknown) => {
      const msg = validate(raw);
      if (!msg) {
        log.warn(`${viewName}: dropped an invalid message from the webview: ${preview(raw)}`);
        return;
      }
      if (msg.type === 'cspViolation') {
        const m = msg as unknown as { directive: string; blockedUri: string };
        log.warn(`${viewName}: Content-Security-Policy blocked ${m.blockedUri || 'inline content'} (${m.directive})`);
      }
      Promise.resolve()
        .then(() => handler(msg))
        .catch((err) => log.error(`${viewName}: ${err instanceof Error ? err.message : String(err)}`));
    });
  }

  post(message: Out): Thenable<boolean> {
    return this.webview.postMessage(message).then(
      (ok) => ok,
      (err) => {
        this.log.warn(`${this.viewName}: postMessage failed: ${err}`);
        return false;
      },
    );
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

function preview(raw: unknown): string {
  try {
    return JSON.stringify(raw)?.slice(0, 200) ?? String(raw);
  } catch {
    return String(raw);
  }
}
