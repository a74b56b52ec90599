/** Styles shared by the views' shadow roots: VS Code theme variables only. */
import { css } from 'lit';

export const baseStyles = css`
  :host {
    color: var(--vscode-foreground);
    font-family: var(--vscode-font-family);
    font-size: var(--vscode-font-size);
  }
  :focus-visible {
    outline: 1px solid var(--vscode-focusBorder);
    outline-offset: -1px;
  }
  .muted {
    color: var(--vscode-descriptionForeground);
  }
  .error {
    color: var(--vscode-errorForeground);
    border: 1px solid var(--vscode-inputValidation-errorBorder, var(--vscode-errorForeground));
    background: var(--vscode-inputValidation-errorBackground, transparent);
    padding: 8px 12px;
    white-space: pre-wrap;
  }
  h1, h2, h3 {
    font-weight: 600;
    margin: 0.6em 0 0.4em;
  }
  h1 { font-size: 1.4em; }
  h2 { font-size: 1.15em; }
  h3 { font-size: 1em; }
`;
