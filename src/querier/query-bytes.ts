import type { Expr, Matcher } from '../../query/ast.js';
import type { QueryParams } from '../../query/engine.js';

/** A stream selector a query reads, with the time range it reads it over ([start, end), nanoseconds). */
export interface SelectorRead {
  matchers: Matcher[];
  start: bigint;
  end: bigint;
}

/**
 * The selectors whose line bytes count toward limits.max_query_bytes_read, as Loki counts them: every
 * selector of a metric query over its widest window (range and offset included), and a log query's
 * selector only when it has stages — a bare selector stops at its `limit` of entries, whatever the data.
 */
export function selectorsRead(expr: Expr, params: QueryParams): SelectorRead[] {
  const out: SelectorRead[] = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'log':
        if (e.pipeline.length > 0) out.push({ matchers: e.matchers, start: params.start, end: params.end });
        return;
      case 'range_agg': {
        const offset = e.offset ?? 0n;
        out.push({ matchers: e.selector.matchers, start: params.start - offset - e.range, end: params.end - offset + 1n });
        return;
      }
      case 'vector_agg':
      case 'label_replace':
        walk(e.expr);
        return;
      case 'binary':
        walk(e.left);
        walk(e.right);
        return;
      default:
        return;
    }
  };
  walk(expr);
  return out;
}

/** Loki's byte figures in its messages: decimal units, one decimal ("1.5 GB"). */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
