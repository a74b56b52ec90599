/**
 * The HTML shell of every CNN Lens webview: a strict Content-Security-Policy with a per-load
 * nonce, one bundled script from `dist/webview/`, no remote content.
 *
 * CSP: `default-src 'none'`; scripts only with the nonce; styles from the extension (cspSource)
 * or with the nonce. Lit and @vscode-elements style their shadow roots through constructable
 * stylesheets (`adoptedStyleSheets`), which CSP does not govern, and @vscode-elements templates
 * carry no `style="…"` attributes (checked in 2.5.1's dist), so `'unsafe-inline'` is not needed;
 * any violation is reported by the webview (`cspViolation` message) and logged by the host.
 * Images: the extension's files and `data:` URLs (canvas snapshots); fonts: the extension's.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

export type WebviewEntry = 'modelEditor' | 'activations' | 'filters' | 'training' | 'embedding';

/** Webview options: scripts on, resources only from the extension's `dist/webview/`. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
  };
}

export function makeNonce(): string {
  return randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, entry: WebviewEntry, title: string): string {
  const nonce = makeNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${entry}.js`));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">
  html, body { height: 100%; margin: 0; padding: 0; }
  body { color: var(--vscode-foreground); background: var(--vscode-editor-background);
         font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
</style>
</head>
<body>
<cnn-lens-${entry === 'modelEditor' ? 'model-editor' : entry}-app></cnn-lens-${entry === 'modelEditor' ? 'model-editor' : entry}-app>
<script type="module" nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
