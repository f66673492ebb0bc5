// The inputs of revivable views, also kept in the workspace state by tab title: a page's own webview
// state reaches the workbench's storage only when it next saves (it may not before a reload or a closing
// browser tab), while the tab and its title are restored more reliably. A revived view whose state is
// missing or damaged finds its inputs here under its title.
import type * as vscode from 'vscode';
import type { z } from 'zod';
import { parseState } from '../../protocol/viewState';

export class RememberedViews<T extends { title: string }> {
  constructor(
    private readonly memory: vscode.Memento,
    private readonly key: string,
    private readonly kept = 20,
  ) {}

  /** Keeps the state under its title (the latest first, at most `kept` views). */
  remember(state: T): void {
    const others = (this.memory.get<T[]>(this.key) ?? []).filter((s) => s.title !== state.title);
    void this.memory.update(this.key, [state, ...others].slice(0, this.kept));
  }

  recall(title: string): T | undefined {
    return this.memory.get<T[]>(this.key)?.find((s) => s.title === title);
  }

  /**
   * The inputs of a revived view: the state VS Code handed back if it parses, else the one remembered
   * under the tab's title if that does. With neither, `lost` hears a message for the page (which says it
   * instead of staying blank) naming `view` and `rerun`, what makes it again; and this is undefined.
   */
  revived(
    schema: z.ZodType<T>,
    state: unknown,
    title: string,
    o: { view: string; rerun: string; log: { warn(m: string): void }; lost: (message: string) => void },
  ): T | undefined {
    const found = parseState(schema, state) ?? parseState(schema, this.recall(title));
    if (!found) {
      o.log.warn(`${o.view.toLowerCase()}: a view came back after a reload without its inputs`);
      o.lost(
        `This ${o.view} view cannot be shown again: its inputs were not saved before the window closed. Run ${o.rerun} again.`,
      );
    }
    return found;
  }
}
