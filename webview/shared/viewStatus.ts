/**
 * The status every view shows above its content: a progress line while the host works on
 * something, or an error. A Lit reactive controller, so setting either re-renders the view; it
 * handles the host messages every view shares (`loading`, `error`) and renders both lines the
 * same way in every view (`role="status"` / `role="alert"` for screen readers).
 */
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import type { CommonHostMessage } from '../../src/protocol';

export class ViewStatus implements ReactiveController {
  private loadingText: string | undefined = 'Waiting for the extension…';
  private errorText: string | undefined;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {}

  get loading(): string | undefined {
    return this.loadingText;
  }

  set loading(message: string | undefined) {
    this.loadingText = message;
    this.host.requestUpdate();
  }

  get error(): string | undefined {
    return this.errorText;
  }

  set error(message: string | undefined) {
    this.errorText = message;
    this.host.requestUpdate();
  }

  /** Neither loading nor failed. */
  get idle(): boolean {
    return !this.loadingText && !this.errorText;
  }

  /** A progress line replaces an error and the other way round; the host's data clears both. */
  clear(): void {
    this.loading = undefined;
    this.error = undefined;
  }

  /** Takes the common host messages; returns false for the view's own ones. */
  handle(m: { type: string }): m is CommonHostMessage {
    const common = m as CommonHostMessage;
    if (common.type === 'loading') {
      this.errorText = undefined;
      this.loading = common.message;
      return true;
    }
    if (common.type === 'error') {
      this.loadingText = undefined;
      this.error = common.message;
      return true;
    }
    return false;
  }

  render() {
    return html`${this.errorText ? html`<div class="error" role="alert">${this.errorText}</div>` : nothing}
    ${this.loadingText ? html`<p role="status"><vscode-progress-ring></vscode-progress-ring> ${this.loadingText}</p>` : nothing}`;
  }
}
