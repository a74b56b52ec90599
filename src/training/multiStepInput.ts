/**
 * A multi-step QuickPick / InputBox flow with a Back button, in the manner of the `multiStepInput`
 * example of microsoft/vscode-extension-samples (quickinput-sample): each step is a function that
 * shows one input and returns the next step; Back re-runs the previous step, Escape cancels the
 * whole flow. One QuickInput is on screen at a time and it stays open when focus moves elsewhere
 * (`ignoreFocusOut`), so looking something up in an editor does not lose the answers given.
 *
 * Additions over the sample: items may arrive later (a promise: the input shows "busy" until
 * they do), and a step can return `RETURN` to go back to the step that led to it (an edit box
 * opened from a list goes back to that list instead of stacking a second copy of it) or `AGAIN`
 * to show itself once more (after a toggle, or a cancelled file dialog) without growing the
 * Back history.
 */
import * as vscode from 'vscode';

/** Signals thrown through a step when the user presses Back or closes the input. */
class FlowSignal {
  private constructor(readonly name: string) {}
  static readonly back = new FlowSignal('back');
  static readonly cancel = new FlowSignal('cancel');
}

/** Returned by a step: continue with the step before this one (after saving an edit). */
export const RETURN = Symbol('return to the previous step');
/** Returned by a step: show this step again. */
export const AGAIN = Symbol('show this step again');

export type InputStep = (input: MultiStepInput) => Promise<InputStep | typeof RETURN | typeof AGAIN | void>;

interface Common {
  title: string;
  step: number;
  totalSteps: number;
}

export interface PickParams<T extends vscode.QuickPickItem> extends Common {
  /** A promise replaces the text when it resolves (e.g. once a computation behind the items is done). */
  placeholder: string | Promise<string>;
  items: readonly T[] | Promise<readonly T[]>;
  /** Label of the item to highlight. */
  activeLabel?: string | Promise<string | undefined>;
  matchOnDescription?: boolean;
  matchOnDetail?: boolean;
}

export interface InputParams extends Common {
  prompt: string;
  value: string;
  placeholder?: string;
  /** Returns an error message for invalid text, undefined when it may be accepted. */
  validate: (value: string) => string | undefined;
}

export class MultiStepInput {
  private current: vscode.QuickInput | undefined;
  private readonly steps: InputStep[] = [];

  /** Runs the flow from `start`; resolves true when the last step finished, false on cancel. */
  static async run(start: InputStep): Promise<boolean> {
    const input = new MultiStepInput();
    try {
      return await input.stepThrough(start);
    } finally {
      input.current?.dispose();
    }
  }

  /** True while there is a step to go back to (the Back button is shown). */
  private get canGoBack(): boolean {
    return this.steps.length > 1;
  }

  private async stepThrough(start: InputStep): Promise<boolean> {
    let step: InputStep | undefined = start;
    while (step) {
      this.steps.push(step);
      if (this.current) {
        this.current.enabled = false;
        this.current.busy = true;
      }
      try {
        const next: InputStep | typeof RETURN | typeof AGAIN | void = await step(this);
        if (next === AGAIN) {
          this.steps.pop();
        } else if (next === RETURN) {
          this.steps.pop();
          step = this.steps.pop();
        } else if (next) {
          step = next;
        } else {
          return true;
        }
      } catch (err) {
        if (err === FlowSignal.back) {
          this.steps.pop();
          step = this.steps.pop();
        } else if (err === FlowSignal.cancel) {
          return false;
        } else {
          throw err;
        }
      }
    }
    return false;
  }

  private replace(input: vscode.QuickInput): void {
    this.current?.dispose();
    this.current = input;
    input.show();
  }

  async showQuickPick<T extends vscode.QuickPickItem>(p: PickParams<T>): Promise<T> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<T>((resolve, reject) => {
        const pick = vscode.window.createQuickPick<T>();
        pick.title = p.title;
        pick.step = p.step;
        pick.totalSteps = p.totalSteps;
        if (typeof p.placeholder === 'string') pick.placeholder = p.placeholder;
        else {
          pick.placeholder = 'Please wait…';
          p.placeholder.then((text) => (pick.placeholder = text), () => undefined);
        }
        pick.ignoreFocusOut = true;
        pick.matchOnDescription = p.matchOnDescription ?? false;
        pick.matchOnDetail = p.matchOnDetail ?? false;
        pick.buttons = this.canGoBack ? [vscode.QuickInputButtons.Back] : [];
        const setItems = (items: readonly T[], activeLabel: string | undefined) => {
          pick.items = items;
          const active = activeLabel !== undefined ? items.find((i) => i.label === activeLabel) : undefined;
          if (active) pick.activeItems = [active];
        };
        if (Array.isArray(p.items) && typeof p.activeLabel !== 'object') setItems(p.items as readonly T[], p.activeLabel);
        else {
          pick.busy = true;
          Promise.all([p.items, p.activeLabel]).then(
            ([items, activeLabel]) => {
              pick.busy = false;
              setItems(items, activeLabel);
            },
            (err: unknown) => reject(err),
          );
        }
        disposables.push(
          pick.onDidTriggerButton((b) => {
            if (b === vscode.QuickInputButtons.Back) reject(FlowSignal.back);
          }),
          pick.onDidAccept(() => {
            const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
            if (chosen) resolve(chosen);
          }),
          pick.onDidHide(() => reject(FlowSignal.cancel)),
        );
        this.replace(pick);
      });
    } finally {
      for (const d of disposables) d.dispose();
    }
  }

  async showInputBox(p: InputParams): Promise<string> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<string>((resolve, reject) => {
        const box = vscode.window.createInputBox();
        box.title = p.title;
        box.step = p.step;
        box.totalSteps = p.totalSteps;
        box.prompt = p.prompt;
        box.value = p.value;
        box.placeholder = p.placeholder;
        box.ignoreFocusOut = true;
        box.buttons = this.canGoBack ? [vscode.QuickInputButtons.Back] : [];
        box.validationMessage = p.validate(p.value);
        disposables.push(
          box.onDidTriggerButton((b) => {
            if (b === vscode.QuickInputButtons.Back) reject(FlowSignal.back);
          }),
          box.onDidChangeValue((text) => {
            box.validationMessage = p.validate(text);
          }),
          box.onDidAccept(() => {
            const problem = p.validate(box.value);
            box.validationMessage = problem;
            if (!problem) resolve(box.value);
          }),
          box.onDidHide(() => reject(FlowSignal.cancel)),
        );
        this.replace(box);
      });
    } finally {
      for (const d of disposables) d.dispose();
    }
  }
}
