/**
 * Range aggregations: `count_over_time({…} |= "x" [5m] offset 1h)`, `quantile_over_time(0.99, {…} | unwrap x [1m]) by (a)`,
 * with Loki's rules on which operations need, accept or refuse unwrap and grouping.
 */
import type { Grouping, LogSelectorExpr, RangeAggregationExpr, RangeOp } from '../ast.js';
import type { Cursor } from './cursor.js';
import { atGrouping, parseGrouping } from './grouping.js';
import { parsePipelineInto, type LogParts } from './pipeline.js';
import { parseSelectorMatchers } from './selector.js';
import { isNaNOrInf, parseSignedNumber } from './signed-number.js';

export const RANGE_OPS: ReadonlySet<string> = new Set<RangeOp>([
  'count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time', 'sum_over_time', 'avg_over_time',
  'min_over_time', 'max_over_time', 'first_over_time', 'last_over_time', 'stddev_over_time', 'stdvar_over_time',
  'quantile_over_time', 'rate_counter',
]);

/** Range operations that work on log lines (no unwrap needed). */
const LOG_RANGE_OPS = new Set<RangeOp>(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time']);
/** Range operations that accept an unwrapped value (rate and absent_over_time work either way, as in Loki). */
const UNWRAP_RANGE_OPS = new Set<RangeOp>([
  'sum_over_time', 'avg_over_time', 'min_over_time', 'max_over_time', 'first_over_time', 'last_over_time',
  'stddev_over_time', 'stdvar_over_time', 'quantile_over_time', 'rate', 'rate_counter', 'absent_over_time',
]);
/** Range operations that may carry `by`/`without`: they pick or combine samples within one series. */
const GROUPING_RANGE_OPS = new Set<RangeOp>([
  'avg_over_time', 'min_over_time', 'max_over_time', 'first_over_time', 'last_over_time', 'stddev_over_time',
  'stdvar_over_time', 'quantile_over_time',
]);

interface RangeParts extends LogParts {
  range?: bigint;
  offset?: bigint;
}

/**
 * The inside of a range aggregation. Loki accepts the range after the pipeline (`{…} |= "x" [5m]`), before it
 * (`{…}[5m] |= "x"`) and around parentheses (`({…} |= "x")[5m]`); all produce the same tree.
 */
function parseLogRangeInto(c: Cursor, parts: RangeParts): void {
  if (c.atOp('(')) {
    c.enter(c.next().pos);
    parseLogRangeInto(c, parts);
    c.expectOp(')', parts.range === undefined ? ') or | or [' : ') or |');
    c.leave();
  } else {
    if (!c.atOp('{')) c.unexpected(c.peek(), '{ (a log query with a range, like {app="x"} |= "error" [5m])');
    parts.matchers = parseSelectorMatchers(c);
  }
  parsePipelineInto(c, parts, true);
  if (c.atOp('[')) {
    if (parts.range !== undefined) c.unexpectedWith(c.peek(), 'the range is given twice');
    parts.range = parseRange(c);
    if (c.atIdent('offset')) {
      c.next();
      const d = c.peek();
      if (d.type !== 'duration') c.unexpected(d, 'DURATION after offset, like offset 1h');
      c.next();
      parts.offset = d.dur!;
    }
    parsePipelineInto(c, parts, true);
    if (c.atOp('[')) c.unexpectedWith(c.peek(), 'the range is given twice');
  }
}

/**
 * Loki reads everything from `[` to the next `]` as one duration, so a bad range fails with the duration parser's
 * words about that text, or with its complaint about the missing `]`.
 */
function lokiRangeError(c: Cursor, open: number): string {
  const close = c.text.indexOf(']', open + 1);
  if (close < 0) return "missing closing ']' in duration";
  const body = c.text.slice(open + 1, close);
  return body === '' ? 'empty duration string' : `not a valid duration string: ${JSON.stringify(body)}`;
}

function parseRange(c: Cursor): bigint {
  const open = c.next().pos;
  const d = c.peek();
  if (d.type === 'number') c.fail(d.pos, `${lokiRangeError(c, open)}: range [${d.text}] needs a unit, like [${d.text}s] or [5m]`);
  if (d.type !== 'duration') c.fail(d.pos, `${lokiRangeError(c, open)}: syntax error: unexpected ${c.nameOf(d)}, expecting DURATION, like [5m]`);
  c.next();
  if (d.dur! <= 0n) c.fail(d.pos, `range [${d.text}] must be greater than zero`);
  if (c.atOp(':')) c.fail(c.peek().pos, `${lokiRangeError(c, open)}: subqueries like [5m:1m] are not supported`);
  if (!c.atOp(']')) c.fail(c.peek().pos, `${lokiRangeError(c, open)}: syntax error: unexpected ${c.nameOf(c.peek())}, expecting ]`);
  c.next();
  return d.dur!;
}

export function parseRangeAggregation(c: Cursor): RangeAggregationExpr {
  const opTok = c.next();
  const op = opTok.text as RangeOp;
  c.next();
  let param: number | undefined;
  if (op === 'quantile_over_time') {
    const t = c.peek();
    if (t.type !== 'number' && !c.atOp('-') && !c.atOp('+') && !(t.type === 'ident' && isNaNOrInf(t.text) && c.atOp(',', 1))) {
      c.fail(t.pos, 'parameter required for operation quantile_over_time: quantile_over_time needs the quantile as its first argument, like quantile_over_time(0.99, {…} | unwrap latency [1m])');
    }
    const phi = parseSignedNumber(c, 'NUMBER (the quantile)');
    // Loki itself answers ±Inf for such a φ; a φ like 95 is nearly always meant as 0.95, so it is refused.
    if (!(phi.value >= 0 && phi.value <= 1)) {
      c.fail(phi.pos, `quantile_over_time: quantile value should be between 0 and 1, got ${phi.text.replace(/\s+/g, '')} (φ is a fraction: write 0.95 for the 95th percentile)`);
    }
    param = phi.value;
    c.expectOp(',');
  } else if ((c.peek().type === 'number' || c.atOp('-')) && (c.atOp(',', 1) || c.atOp(',', 2))) {
    const p = c.peek();
    const text = c.text.slice(p.pos, c.peek(c.atOp(',', 1) ? 0 : 1).end).replace(/\s+/g, '');
    c.fail(p.pos, `parameter ${text} not supported for operation ${op}: ${op} does not take a parameter; only quantile_over_time does`);
  }
  const parts: RangeParts = { matchers: [], stages: [] };
  parseLogRangeInto(c, parts);
  if (parts.range === undefined) {
    if (!c.atOp(')')) c.unexpected(c.peek(), '| or [ (the range, like [5m])');
    c.unexpectedWith(c.peek(), `${op} needs a range after the log query, like ${op}({app="x"} [5m])`);
  }
  c.expectOp(')', parts.unwrap ? ') or |' : ') or | or offset');
  let grouping: Grouping | undefined;
  let groupingPos = 0;
  if (atGrouping(c)) {
    groupingPos = c.peek().pos;
    grouping = parseGrouping(c);
  }

  if (parts.unwrap && !UNWRAP_RANGE_OPS.has(op)) {
    c.fail(parts.unwrapPos!, `invalid aggregation ${op} with unwrap: ${op} counts log lines; use sum_over_time, avg_over_time, max_over_time, … to aggregate unwrapped values`);
  }
  if (!parts.unwrap && !LOG_RANGE_OPS.has(op)) {
    c.fail(opTok.pos, `invalid aggregation ${op} without unwrap: add | unwrap <label> before the range, like ${op}(${op === 'quantile_over_time' ? '0.99, ' : ''}{…} | unwrap latency [1m])`);
  }
  if (grouping && !GROUPING_RANGE_OPS.has(op)) {
    c.fail(groupingPos, `grouping not allowed for ${op} aggregation: by/without works with ${[...GROUPING_RANGE_OPS].join(', ')}; wrap it in sum by (…) (…) instead`);
  }

  const selector: LogSelectorExpr = { kind: 'log', matchers: parts.matchers, pipeline: parts.stages };
  const e: RangeAggregationExpr = { kind: 'range_agg', op, selector, range: parts.range };
  if (param !== undefined) e.param = param;
  if (parts.unwrap) e.unwrap = parts.unwrap;
  if (parts.offset !== undefined) e.offset = parts.offset;
  if (grouping) e.grouping = grouping;
  return c.mark(e, opTok.pos);
}
