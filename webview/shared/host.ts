/**
 * The webview side of the typed channel to the extension host: `post` takes only this view's
 * webview messages, `onMessage` hands out only its host messages, and the view's state lives in
 * `vscode.setState` (survives hiding and reloads). CSP violations are reported to the host.
 */
interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}
declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export class HostChannel<Out extends { type: string }, In extends { type: string }, S extends object> {
  private readonly api: VsCodeApi<S>;

  constructor() {
    this.api = acquireVsCodeApi<S>();
    document.addEventListener('securitypolicyviolation', (e) => {
      this.api.postMessage({ type: 'cspViolation', directive: String(e.violatedDirective).slice(0, 200), blockedUri: String(e.blockedURI).slice(0, 500) });
    });
  }

  post(message: Out): void {
    this.api.postMessage(message);
  }

  onMessage(handler: (message: In) => void): void {
    window.addEventListener('message', (e: MessageEvent) => {
      const data = e.data as unknown;
      if (data && typeof data === 'object' && typeof (data as { type?: unknown }).type === 'string') handler(data as In);
    });
  }

  get state(): Partial<S> {
    return (this.api.getState() ?? {}) as Partial<S>;
  }

  patchState(patch: Partial<S>): void {
    this.api.setState({ ...this.state, ...patch } as S);
  }
}
