/**
 * The `regexp` parameter of the legacy query, added to the query as a `|~` line filter (as Loki did). A
 * raw string keeps every backslash as written, unless the pattern holds a backtick.
 */
export function withRegexp(query: string, regexp: string | undefined): string {
  if (regexp === undefined) return query;
  const literal = regexp.includes('`') ? JSON.stringify(regexp) : '`' + regexp + '`';
  return `${query} |~ ${literal}`;
}
