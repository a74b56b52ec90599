/**
 * `<embedding-legend>`: one toggle button per class (swatch, name, point count) and a
 * "Highlight misclassified" checkbox. Buttons are reachable with Tab and toggled with Enter or
 * Space; `aria-pressed` says whether the class is shown.
 *
 * Properties: `classNames`, `colours`, `counts` (points per class), `hidden` (class indices not
 * shown), `misclassified` (count, or null when there are no labels), `highlight`.
 * Events: `class-toggle` ({ index }), `show-all`, `highlight-toggle` ({ on }).
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { rgbCss, type Rgb } from '../shared/palette';
import { formatInt } from '../shared/format';
import { baseStyles } from '../shared/styles';

@customElement('embedding-legend')
export class EmbeddingLegend extends LitElement {
  @property({ attribute: false }) classNames: string[] = [];
  @property({ attribute: false }) colours: readonly Rgb[] = [];
  @property({ attribute: false }) counts: number[] = [];
  @property({ attribute: false }) hiddenClasses: ReadonlySet<number> = new Set();
  @property({ attribute: false }) misclassified: number | null = null;
  @property({ type: Boolean }) highlight = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 6px;
        align-items: center;
        font-size: 0.9em;
      }
      ul {
        display: contents;
        list-style: none;
      }
      li {
        display: contents;
      }
      button.cls {
        all: unset;
        display: inline-flex;
        gap: 5px;
        align-items: center;
        padding: 1px 6px;
        border: 1px solid transparent;
        border-radius: 2px;
        cursor: pointer;
        font-variant-numeric: tabular-nums;
      }
      button.cls:hover {
        background: var(--vscode-list-hoverBackground);
      }
      button.cls:focus-visible {
        outline: 1px solid var(--vscode-focusBorder);
      }
      button.cls[aria-pressed='false'] {
        opacity: 0.45;
        text-decoration: line-through;
      }
      .swatch {
        width: 10px;
        height: 10px;
        border-radius: 50%;
        border: 1px solid var(--vscode-editorWidget-border, transparent);
      }
      .count {
        color: var(--vscode-descriptionForeground);
      }
      vscode-checkbox {
        margin-left: 8px;
      }
    `,
  ];

  private emit(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  override render() {
    return html`<ul role="list" aria-label="Classes (click to show or hide)">
        ${this.classNames.map(
          (name, i) => html`<li>
            <button
              class="cls"
              data-class=${i}
              aria-pressed=${this.hiddenClasses.has(i) ? 'false' : 'true'}
              title="${this.hiddenClasses.has(i) ? 'Show' : 'Hide'} ${name}"
              @click=${() => this.emit('class-toggle', { index: i })}
            >
              <span class="swatch" data-colour=${i} aria-hidden="true"></span><span class="name">${name}</span><span class="count">${formatInt(this.counts[i] ?? 0)}</span>
            </button>
          </li>`,
        )}
      </ul>
      ${this.hiddenClasses.size ? html`<vscode-button secondary @click=${() => this.emit('show-all')}>Show all</vscode-button>` : nothing}
      ${this.misclassified !== null
        ? html`<vscode-checkbox
            label="Highlight misclassified (${formatInt(this.misclassified)})"
            ?checked=${this.highlight}
            @change=${(e: Event) => this.emit('highlight-toggle', { on: (e.target as HTMLInputElement).checked })}
          ></vscode-checkbox>`
        : nothing}`;
  }

  protected override updated(): void {
    // Swatch colours through the CSSOM (no inline style attributes under the CSP).
    for (const el of this.renderRoot.querySelectorAll<HTMLElement>('.swatch[data-colour]')) {
      el.style.background = rgbCss(this.colours[Number(el.dataset.colour)] ?? [128, 128, 128]);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'embedding-legend': EmbeddingLegend;
  }
}
