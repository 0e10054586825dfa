/**
 * Parse-time validation of patterns, as Loki rejects bad ones before running the query. A pattern is literal text
 * and captures `<name>` (or `<_>` to skip); two captures need literal text between them or the split point would
 * be ambiguous. The `| pattern` parser needs at least one named capture, each name once; a `|>`/`!>` line filter
 * takes only `<_>`. Messages carry Loki's own phrases (`at least one capture is required`, `found consecutive
 * capture`, `named captures are not allowed`) after narvi's explanation.
 * Each returns an error description, or undefined when valid.
 */

/** The captures of `pattern` in order, with whether a capture directly follows the previous one. */
function captures(pattern: string): { name: string; adjacent: boolean }[] {
  const out: { name: string; adjacent: boolean }[] = [];
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
          out.push({ name: pattern.slice(i + 1, j), adjacent: lastWasCapture });
          lastWasCapture = true;
          i = j + 1;
          continue;
        }
      }
    }
    lastWasCapture = false;
    i++;
  }
  return out;
}

function consecutive(pattern: string, caps: { name: string; adjacent: boolean }[]): string | undefined {
  for (let k = 1; k < caps.length; k++) {
    if (!caps[k]!.adjacent) continue;
    const pair = `<${caps[k - 1]!.name}><${caps[k]!.name}>`;
    return `found consecutive capture '${pair}': invalid expression: pattern ${JSON.stringify(pattern)} has two captures in a row; put literal text between captures`;
  }
  return undefined;
}

/** The `| pattern "…"` parser's pattern. */
export function checkPattern(pattern: string): string | undefined {
  const caps = captures(pattern);
  const named = caps.filter((c) => c.name !== '_');
  if (named.length === 0) return `at least one capture is required: pattern ${JSON.stringify(pattern)} needs a named capture like <name> (<_> only skips text)`;
  const adjacent = consecutive(pattern, caps);
  if (adjacent !== undefined) return adjacent;
  const seen = new Set<string>();
  for (const c of named) {
    if (seen.has(c.name)) return `duplicate capture name (${c.name}): invalid expression: pattern ${JSON.stringify(pattern)} uses <${c.name}> twice`;
    seen.add(c.name);
  }
  return undefined;
}

/** The pattern of a `|> "…"` or `!> "…"` line filter. */
export function checkLineFilterPattern(pattern: string): string | undefined {
  const caps = captures(pattern);
  const adjacent = consecutive(pattern, caps);
  if (adjacent !== undefined) return adjacent;
  const named = caps.find((c) => c.name !== '_');
  if (named !== undefined) {
    return `named captures are not allowed: found '<${named.name}>' in the line filter pattern ${JSON.stringify(pattern)}; a line filter only matches, use <_> (or | pattern to extract)`;
  }
  return undefined;
}
