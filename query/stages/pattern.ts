/**
 * `| pattern "<ip> - - <_> \"<method> <uri> <_>\" <status>"`: captures `<name>` (and skips `<_>`) between literal
 * text. Matching follows Loki: a leading literal must start the line, each capture runs to the next occurrence of
 * the literal after it, and a capture whose following literal is missing takes the rest of the line and ends the
 * match (captures before it are kept). Text after the last literal is ignored.
 */
import type { PatternStage } from '../ast.js';
import type { EntryState, Stage } from './stage.js';

type Part = { lit: string } | { cap: string | null };

const CAPTURE = /<([a-zA-Z_][a-zA-Z0-9_]*)>/g;

export function parsePattern(pattern: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  const names = new Set<string>();
  for (const m of pattern.matchAll(CAPTURE)) {
    if (m.index! > last) parts.push({ lit: pattern.slice(last, m.index) });
    const name = m[1]!;
    const prev = parts[parts.length - 1];
    if (prev && 'cap' in prev) {
      throw new Error(`pattern ${JSON.stringify(pattern)}: captures <${prev.cap ?? '_'}> and <${name}> are consecutive; put literal text between them`);
    }
    if (name !== '_') {
      if (names.has(name)) throw new Error(`pattern ${JSON.stringify(pattern)}: duplicate capture <${name}>`);
      names.add(name);
    }
    parts.push({ cap: name === '_' ? null : name });
    last = m.index! + m[0].length;
  }
  if (last < pattern.length) parts.push({ lit: pattern.slice(last) });
  if (names.size === 0) throw new Error(`pattern ${JSON.stringify(pattern)} has no named capture: name what to extract with <name>`);
  return parts;
}

export class PatternParser implements Stage {
  private readonly parts: Part[];

  constructor(stage: PatternStage) {
    this.parts = parsePattern(stage.pattern);
  }

  process(e: EntryState): boolean {
    const line = e.line;
    const parts = this.parts;
    if (line.length === 0) return true;
    let pos = 0;
    let k = 0;
    const first = parts[0]!;
    if ('lit' in first) {
      if (!line.startsWith(first.lit)) return true;
      pos = first.lit.length;
      k = 1;
    }
    const lbs = e.labels;
    while (k < parts.length) {
      const cap = (parts[k] as { cap: string | null }).cap;
      const next = parts[k + 1] as { lit: string } | undefined;
      if (!next) {
        if (cap !== null) lbs.setExtracted(cap, line.slice(pos));
        return true;
      }
      const at = line.indexOf(next.lit, pos);
      if (at < 0) {
        if (cap !== null) lbs.setExtracted(cap, line.slice(pos));
        return true;
      }
      if (cap !== null) lbs.setExtracted(cap, line.slice(pos, at));
      pos = at + next.lit.length;
      k += 2;
    }
    return true;
  }
}
