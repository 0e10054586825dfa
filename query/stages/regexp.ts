/**
 * `| regexp "(?P<name>…)"`: the named groups of the first match become labels (a group that did not take part
 * gives ""). The regex is unanchored; a line that does not match extracts nothing.
 */
import type { RegexpStage } from '../ast.js';
import { compileRegexWithGroups } from '../regex.js';
import { sanitizeLabelName } from './labels-builder.js';
import type { EntryState, Stage } from './stage.js';

export class RegexpParser implements Stage {
  private readonly regex: RegExp;
  private readonly groups: { index: number; name: string }[] = [];

  constructor(stage: RegexpStage) {
    const { regex, groupNames } = compileRegexWithGroups(stage.pattern, { anchored: false });
    this.regex = regex;
    groupNames.forEach((name, index) => {
      if (name !== undefined) this.groups.push({ index, name: sanitizeLabelName(name) });
    });
    if (this.groups.length === 0) {
      throw new Error(`regexp ${JSON.stringify(stage.pattern)} has no named capture group: name what to extract with (?P<name>…)`);
    }
  }

  process(e: EntryState): boolean {
    const m = this.regex.exec(e.line);
    if (!m) return true;
    for (const g of this.groups) e.labels.setExtracted(g.name, m[g.index] ?? '');
    return true;
  }
}
