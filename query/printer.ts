/**
 * Prints a LogQL tree as canonical text (the `format_query` API and `narvi fmt`). The output parses back to the
 * same tree: strings are always double-quoted with Go escapes, durations take their shortest spelling (`5m`,
 * `1h30m`), grouping goes before the aggregation's parentheses (`sum by (app) (…)`), and parentheses appear only
 * where precedence or associativity needs them.
 */
import type {
  BinaryExpr,
  Expr,
  Grouping,
  LabelFilterExpr,
  LogSelectorExpr,
  Matcher,
  PipelineStage,
  ExtractionParam,
  DropKeepItem,
  RangeAggregationExpr,
  SampleExpr,
  Unwrap,
  VectorMatching,
} from './ast.js';
import { quoteGoString } from './parse/go-string.js';
import { binaryPrecedence } from './parse/binary.js';
import { formatBytesLiteral, formatDurationLiteral, formatNumberLiteral } from './parse/units.js';

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'log':
      return printLogSelector(e);
    case 'range_agg':
      return printRangeAggregation(e);
    case 'vector_agg': {
      const grouping = e.grouping ? ` ${printGrouping(e.grouping)} ` : '';
      const param = e.param !== undefined ? `${formatNumberLiteral(e.param)}, ` : '';
      return `${e.op}${grouping}(${param}${printExpr(e.expr)})`;
    }
    case 'binary':
      return printBinary(e);
    case 'literal':
      return formatNumberLiteral(e.value);
    case 'vector':
      return `vector(${formatNumberLiteral(e.value)})`;
    case 'label_replace':
      return `label_replace(${printExpr(e.expr)}, ${[e.dst, e.replacement, e.src, e.regex].map(quoteGoString).join(', ')})`;
  }
}

export function printMatchers(matchers: Matcher[]): string {
  return `{${matchers.map(printMatcher).join(', ')}}`;
}

function printMatcher(m: Matcher): string {
  return `${m.name}${m.op}${quoteGoString(m.value)}`;
}

export function printLogSelector(e: LogSelectorExpr): string {
  let out = printMatchers(e.matchers);
  for (const s of e.pipeline) out += ' ' + printStage(s);
  return out;
}

export function printStage(s: PipelineStage): string {
  switch (s.kind) {
    case 'line_filter':
      return `${s.op} ${s.values.map((v, i) => (s.ip?.[i] ? `ip(${quoteGoString(v)})` : quoteGoString(v))).join(' or ')}`;
    case 'json':
      return `| json${printParams(s.params)}`;
    case 'logfmt':
      return `| logfmt${s.strict ? ' --strict' : ''}${s.keepEmpty ? ' --keep-empty' : ''}${printParams(s.params)}`;
    case 'regexp':
      return `| regexp ${quoteGoString(s.pattern)}`;
    case 'pattern':
      return `| pattern ${quoteGoString(s.pattern)}`;
    case 'unpack':
      return '| unpack';
    case 'decolorize':
      return '| decolorize';
    case 'label_filter':
      return `| ${printLabelFilter(s.expr)}`;
    case 'line_format':
      return `| line_format ${quoteGoString(s.template)}`;
    case 'label_format':
      return `| label_format ${s.items
        .map((i) => (i.rename !== undefined ? `${i.dst}=${i.rename}` : `${i.dst}=${quoteGoString(i.template ?? '')}`))
        .join(', ')}`;
    case 'drop':
    case 'keep':
      return `| ${s.kind} ${s.items.map(printDropKeepItem).join(', ')}`;
  }
}

function printParams(params: ExtractionParam[]): string {
  if (params.length === 0) return '';
  return ' ' + params.map((p) => (p.label === p.expr ? p.label : `${p.label}=${quoteGoString(p.expr)}`)).join(', ');
}

function printDropKeepItem(i: DropKeepItem): string {
  return i.matcher ? `${i.name}${i.matcher.op}${quoteGoString(i.matcher.value)}` : i.name;
}

/** `and` binds tighter than `or`; both are left-associative, so a right operand of the same kind needs parentheses. */
export function printLabelFilter(e: LabelFilterExpr): string {
  switch (e.kind) {
    case 'or': {
      const right = printLabelFilter(e.right);
      return `${printLabelFilter(e.left)} or ${e.right.kind === 'or' ? `(${right})` : right}`;
    }
    case 'and': {
      const left = printLabelFilter(e.left);
      const right = printLabelFilter(e.right);
      const l = e.left.kind === 'or' ? `(${left})` : left;
      const r = e.right.kind === 'or' || e.right.kind === 'and' ? `(${right})` : right;
      return `${l} and ${r}`;
    }
    case 'string':
      return printMatcher(e.matcher);
    case 'number':
      return `${e.name} ${e.op} ${formatNumberLiteral(e.value)}`;
    case 'duration':
      return `${e.name} ${e.op} ${formatDurationLiteral(e.value)}`;
    case 'bytes':
      return `${e.name} ${e.op} ${formatBytesLiteral(e.value)}`;
    case 'ip':
      return `${e.name}${e.op}ip(${quoteGoString(e.pattern)})`;
  }
}

function printUnwrap(u: Unwrap): string {
  let out = u.conversion ? `| unwrap ${u.conversion}(${u.label})` : `| unwrap ${u.label}`;
  for (const f of u.postFilters) out += ` | ${printLabelFilter(f)}`;
  return out;
}

function printRangeAggregation(e: RangeAggregationExpr): string {
  let log = printLogSelector(e.selector);
  if (e.unwrap) log += ' ' + printUnwrap(e.unwrap);
  const sep = e.selector.pipeline.length > 0 || e.unwrap ? ' ' : '';
  const param = e.param !== undefined ? `${formatNumberLiteral(e.param)}, ` : '';
  const offset = e.offset !== undefined ? ` offset ${formatDurationLiteral(e.offset)}` : '';
  const grouping = e.grouping ? ` ${printGrouping(e.grouping)}` : '';
  return `${e.op}(${param}${log}${sep}[${formatDurationLiteral(e.range)}]${offset})${grouping}`;
}

function printGrouping(g: Grouping): string {
  return `${g.without ? 'without' : 'by'} (${g.labels.join(', ')})`;
}

function precedenceOf(e: SampleExpr): number {
  return e.kind === 'binary' ? binaryPrecedence(e.op) : Infinity;
}

function printBinary(e: BinaryExpr): string {
  const prec = binaryPrecedence(e.op);
  const rightAssoc = e.op === '^';
  const lp = precedenceOf(e.left);
  const rp = precedenceOf(e.right);
  const leftText = printExpr(e.left);
  const rightText = printExpr(e.right);
  const left = lp < prec || (lp === prec && rightAssoc) ? `(${leftText})` : leftText;
  const right = rp < prec || (rp === prec && !rightAssoc) ? `(${rightText})` : rightText;
  const bool = e.bool ? ' bool' : '';
  const matching = e.matching ? printMatching(e.matching, right.startsWith('(')) : '';
  return `${left} ${e.op}${bool}${matching} ${right}`;
}

/** A bare `group_left` before a parenthesised operand would read as its label list, so it gets `()` there. */
function printMatching(m: VectorMatching, rightStartsWithParen: boolean): string {
  let out = ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
  if (m.group) {
    out += ` group_${m.group.side}`;
    if (m.group.include.length > 0 || rightStartsWithParen) out += ` (${m.group.include.join(', ')})`;
  }
  return out;
}
