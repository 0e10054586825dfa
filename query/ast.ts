/**
 * The LogQL syntax tree: what the parser produces, the printer prints and the evaluator runs.
 * Durations are bigint nanoseconds. Every node carries `kind` so code can switch exhaustively.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A label matcher in a stream selector or a string label filter. Regex values are fully anchored. */
export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

// ---------------------------------------------------------------- log pipeline

/**
 * `|= "a" or "b"`: the line must satisfy any of `values` (for `!=`/`!~`/`!>`: none of them). `|>`/`!>` values are
 * patterns (`<_> error <_>`) matched against the whole line.
 */
export interface LineFilterStage {
  kind: 'line_filter';
  op: '|=' | '!=' | '|~' | '!~' | '|>' | '!>';
  values: string[];
  /** Which values are `ip("…")` operands (only with `|=`/`!=`); absent when none is. */
  ip?: boolean[];
}

/** A parser's extraction parameter: `json status="response.code"` or `logfmt foo="bar"`. */
export interface ExtractionParam {
  label: string;
  expr: string;
}

export interface JsonStage {
  kind: 'json';
  params: ExtractionParam[];
}

export interface LogfmtStage {
  kind: 'logfmt';
  strict: boolean;
  keepEmpty: boolean;
  params: ExtractionParam[];
}

export interface RegexpStage {
  kind: 'regexp';
  pattern: string;
}

export interface PatternStage {
  kind: 'pattern';
  pattern: string;
}

export interface UnpackStage {
  kind: 'unpack';
}

export interface DecolorizeStage {
  kind: 'decolorize';
}

export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

export type LabelFilterExpr =
  | { kind: 'and' | 'or'; left: LabelFilterExpr; right: LabelFilterExpr }
  /** `name="v"`, `name=~"re"`: string comparison (regexes fully anchored). */
  | { kind: 'string'; matcher: Matcher }
  /** `status >= 400`: the label's value parsed as a float; a non-number sets __error__. */
  | { kind: 'number'; name: string; op: CompareOp; value: number }
  /** `latency > 250ms`: the label's value parsed as a Go duration; value in nanoseconds. */
  | { kind: 'duration'; name: string; op: CompareOp; value: bigint }
  /** `size > 20MB`: the label's value parsed as a byte size; value in bytes. */
  | { kind: 'bytes'; name: string; op: CompareOp; value: number }
  /** `addr = ip("10.0.0.0/8")`. */
  | { kind: 'ip'; name: string; op: '=' | '!='; pattern: string };

export interface LabelFilterStage {
  kind: 'label_filter';
  expr: LabelFilterExpr;
}

export interface LineFormatStage {
  kind: 'line_format';
  template: string;
}

/** `label_format dst=src` (rename) or `dst="{{ template }}"`. */
export interface LabelFormatItem {
  dst: string;
  rename?: string;
  template?: string;
}

export interface LabelFormatStage {
  kind: 'label_format';
  items: LabelFormatItem[];
}

/** `drop a, b="x"`, `keep a`: a bare name, or a name with a matcher on its value. */
export interface DropKeepItem {
  name: string;
  matcher?: Matcher;
}

export interface DropStage {
  kind: 'drop';
  items: DropKeepItem[];
}

export interface KeepStage {
  kind: 'keep';
  items: DropKeepItem[];
}

export type PipelineStage =
  | LineFilterStage
  | JsonStage
  | LogfmtStage
  | RegexpStage
  | PatternStage
  | UnpackStage
  | DecolorizeStage
  | LabelFilterStage
  | LineFormatStage
  | LabelFormatStage
  | DropStage
  | KeepStage;

/** `{app="x"} |= "err" | json`: a stream selector and its pipeline. */
export interface LogSelectorExpr {
  kind: 'log';
  matchers: Matcher[];
  pipeline: PipelineStage[];
}

// ---------------------------------------------------------------- metric queries

export interface Grouping {
  without: boolean;
  labels: string[];
}

export type RangeOp =
  | 'count_over_time'
  | 'rate'
  | 'bytes_over_time'
  | 'bytes_rate'
  | 'absent_over_time'
  | 'sum_over_time'
  | 'avg_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'first_over_time'
  | 'last_over_time'
  | 'stddev_over_time'
  | 'stdvar_over_time'
  | 'quantile_over_time'
  | 'rate_counter';

/** `| unwrap latency`, `| unwrap duration(latency)`, followed by optional label filters. */
export interface Unwrap {
  label: string;
  conversion?: 'duration' | 'duration_seconds' | 'bytes';
  postFilters: LabelFilterExpr[];
}

/** `count_over_time({…} | … [5m] offset 1h)`, `quantile_over_time(0.99, {…} | unwrap x [1m]) by (a)`. */
export interface RangeAggregationExpr {
  kind: 'range_agg';
  op: RangeOp;
  /** The φ of quantile_over_time. */
  param?: number;
  selector: LogSelectorExpr;
  unwrap?: Unwrap;
  range: bigint;
  offset?: bigint;
  grouping?: Grouping;
}

export type VectorOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'approx_topk' | 'sort' | 'sort_desc';

export interface VectorAggregationExpr {
  kind: 'vector_agg';
  op: VectorOp;
  /** k of topk/bottomk/approx_topk. */
  param?: number;
  grouping?: Grouping;
  expr: SampleExpr;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type ComparisonOp = '==' | '!=' | '>' | '>=' | '<' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface VectorMatching {
  /** true: `on(labels)`, false: `ignoring(labels)`. */
  on: boolean;
  labels: string[];
  /** `group_left(include…)` / `group_right(include…)`. */
  group?: { side: 'left' | 'right'; include: string[] };
}

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  /** The `bool` modifier on comparisons. */
  bool: boolean;
  matching?: VectorMatching;
  left: SampleExpr;
  right: SampleExpr;
}

/** A scalar number literal (`2`, `-1.5`, `1e3`). */
export interface LiteralExpr {
  kind: 'literal';
  value: number;
}

/** `vector(1)`. */
export interface VectorExpr {
  kind: 'vector';
  value: number;
}

/** `label_replace(expr, "dst", "replacement", "src", "regex")`. */
export interface LabelReplaceExpr {
  kind: 'label_replace';
  expr: SampleExpr;
  dst: string;
  replacement: string;
  src: string;
  regex: string;
}

export type SampleExpr = RangeAggregationExpr | VectorAggregationExpr | BinaryExpr | LiteralExpr | VectorExpr | LabelReplaceExpr;

export type Expr = LogSelectorExpr | SampleExpr;

export function isLogExpr(e: Expr): e is LogSelectorExpr {
  return e.kind === 'log';
}
