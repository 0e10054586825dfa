/**
 * `| drop a, b="x"` and `| keep a, b="x"`: remove labels, or keep only the named ones. A bare name acts on the
 * label whatever its value; a name with a matcher only where the value matches. keep never removes `__error__` and
 * `__error_details__`, so errors stay visible and filterable.
 */
import type { DropKeepItem } from '../ast.js';
import { compileMatcher } from '../regex.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL } from './labels-builder.js';
import type { EntryState, Stage } from './stage.js';

interface Item {
  name: string;
  matches: ((value: string) => boolean) | null;
}

function compileItems(items: DropKeepItem[]): Item[] {
  return items.map((it) => ({ name: it.name, matches: it.matcher ? compileMatcher(it.matcher) : null }));
}

export class DropLabels implements Stage {
  private readonly items: Item[];

  constructor(items: DropKeepItem[]) {
    this.items = compileItems(items);
  }

  process(e: EntryState): boolean {
    const lbs = e.labels;
    for (const it of this.items) {
      const v = lbs.get(it.name);
      if (v === undefined) continue;
      if (it.matches === null || it.matches(v)) lbs.delete(it.name);
    }
    return true;
  }
}

export class KeepLabels implements Stage {
  private readonly byName = new Map<string, Item[]>();

  constructor(items: DropKeepItem[]) {
    for (const it of compileItems(items)) {
      const list = this.byName.get(it.name) ?? [];
      list.push(it);
      this.byName.set(it.name, list);
    }
  }

  process(e: EntryState): boolean {
    const lbs = e.labels;
    const doomed: string[] = [];
    lbs.forEach((name, value) => {
      if (name === ERROR_LABEL || name === ERROR_DETAILS_LABEL) return;
      const items = this.byName.get(name);
      if (!items || !items.some((it) => it.matches === null || it.matches(value))) doomed.push(name);
    });
    for (const name of doomed) lbs.delete(name);
    return true;
  }
}
