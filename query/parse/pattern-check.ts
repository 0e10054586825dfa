/**
 * Parse-time validation of a `| pattern "<ip> - <_> [<ts>] <_>"` expression, as Loki rejects bad patterns before
 * running the query: captures are `<name>` (or `<_>` to skip), at least one must be named, names are unique,
 * and two captures need literal text between them or the split point would be ambiguous.
 * Returns an error description, or undefined when valid.
 */
export function checkPattern(pattern: string): string | undefined {
  const names = new Set<string>();
  let named = 0;
  let lastWasCapture = false;
  let i = 0;
  while (i < pattern.length) {
    if (pattern[i] === '<') {
      let j = i + 1;
      const first = pattern.charCodeAt(j);
      const isStart = (first >= 65 && first <= 90) || (first >= 97 && first <= 122) || first === 95;
      if (isStart) {
        j++;
        for (;;) {
          const c = pattern.charCodeAt(j);
          if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95) j++;
          else break;
        }
        if (pattern[j] === '>') {
          const name = pattern.slice(i + 1, j);
          if (lastWasCapture) return `pattern ${JSON.stringify(pattern)} has two captures in a row before <${name}>: put literal text between captures`;
          if (name !== '_') {
            if (names.has(name)) return `pattern ${JSON.stringify(pattern)} uses the capture name <${name}> twice`;
            names.add(name);
            named++;
          }
          lastWasCapture = true;
          i = j + 1;
          continue;
        }
      }
    }
    lastWasCapture = false;
    i++;
  }
  if (named === 0) return `pattern ${JSON.stringify(pattern)} needs at least one named capture like <name>`;
  return undefined;
}
