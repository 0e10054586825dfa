/**
 * The `|> "<_> error <_>"` line filter: the line must match the pattern from its first character to its last.
 * Literals are found left to right at their first occurrence, each `<_>` takes the (non-empty) text up to the next
 * literal, and a pattern ending in `<_>` needs text left for it — Loki's rules, so `"<_> bar"` does not match
 * `foo bar baz` and `"<_> bar <_>"` does not match ` bar ` (an empty capture). The parser has already refused
 * named captures and captures in a row.
 */

/** The pattern split into its literals, with whether it starts and ends with a capture. */
export interface FilterPattern {
  literals: string[];
  leadingCapture: boolean;
  trailingCapture: boolean;
}

const CAPTURE = /<[a-zA-Z_][a-zA-Z0-9_]*>/g;

export function parseFilterPattern(pattern: string): FilterPattern {
  const literals: string[] = [];
  let last = 0;
  let leadingCapture = false;
  let trailingCapture = false;
  for (const m of pattern.matchAll(CAPTURE)) {
    if (m.index === 0) leadingCapture = true;
    if (m.index! > last) literals.push(pattern.slice(last, m.index));
    last = m.index! + m[0].length;
    trailingCapture = last === pattern.length;
  }
  if (last < pattern.length) literals.push(pattern.slice(last));
  return { literals, leadingCapture, trailingCapture };
}

/** The longest literal, which every matching line contains (a block prefilter); '' when there is none. */
export function longestLiteral(p: FilterPattern): string {
  let best = '';
  for (const l of p.literals) if (l.length > best.length) best = l;
  return best;
}

export function matchesPattern(p: FilterPattern, line: string): boolean {
  const lits = p.literals;
  if (line.length === 0) return lits.length === 0 && !p.leadingCapture;
  if (lits.length === 0) return p.leadingCapture;
  let off = 0;
  for (let k = 0; k < lits.length; k++) {
    const lit = lits[k]!;
    const at = line.indexOf(lit, off);
    if (at < 0) return false;
    if (k === 0 ? at !== 0 && !p.leadingCapture : false) return false;
    // A capture before this literal must take at least one character.
    if ((k > 0 || p.leadingCapture) && at === off) return false;
    off = at + lit.length;
  }
  return p.trailingCapture ? off < line.length : off === line.length;
}
