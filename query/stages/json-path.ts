/**
 * The path expressions of `json label="expr"`: `a.b.c`, `items[0]`, `headers["User-Agent"]`, `["a.b"]`.
 * Parsed once at pipeline build time into key/index steps.
 */

export type JsonStep = string | number;

export class JsonPathError extends Error {}

export function parseJsonPath(expr: string): JsonStep[] {
  const steps: JsonStep[] = [];
  let i = 0;
  const n = expr.length;
  const fail = (msg: string): never => {
    throw new JsonPathError(`invalid json expression ${JSON.stringify(expr)} at offset ${i}: ${msg}`);
  };
  const ident = () => {
    const start = i;
    while (i < n && expr[i] !== '.' && expr[i] !== '[' && expr[i] !== ']' && expr[i] !== '"') i++;
    if (i === start) fail('expected a field name');
    steps.push(expr.slice(start, i));
  };
  if (n === 0) fail('empty expression');
  if (expr[0] !== '[') ident();
  while (i < n) {
    const c = expr[i];
    if (c === '.') {
      i++;
      ident();
    } else if (c === '[') {
      i++;
      if (expr[i] === '"') {
        i++;
        let key = '';
        while (i < n && expr[i] !== '"') {
          if (expr[i] === '\\' && i + 1 < n) i++;
          key += expr[i];
          i++;
        }
        if (i >= n) fail('unterminated quoted key');
        i++;
        steps.push(key);
      } else {
        const m = /^\d+/.exec(expr.slice(i));
        if (!m) fail('expected an array index or a "quoted key" inside [ ]');
        steps.push(Number(m![0]));
        i += m![0].length;
      }
      if (expr[i] !== ']') fail('expected ]');
      i++;
    } else {
      fail(`unexpected ${JSON.stringify(c)}: use .field, [index] or ["key"]`);
    }
  }
  return steps;
}

/** The value at `steps` in a parsed JSON document, or undefined when the path does not exist. */
export function lookupJsonPath(doc: unknown, steps: JsonStep[]): unknown {
  let cur: unknown = doc;
  for (const s of steps) {
    if (typeof s === 'number') {
      if (!Array.isArray(cur) || s >= cur.length) return undefined;
      cur = cur[s];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, s)) return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
  }
  return cur;
}
