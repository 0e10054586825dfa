import { describe, expect, it } from 'vitest';
import type { Expr, LabelFilterExpr, LogSelectorExpr, Matcher, PipelineStage, SampleExpr } from '../../query/ast.js';
import { ParseError, parseExpr, parseLogSelector, parseSelector } from '../../query/parser.js';
import { printExpr } from '../../query/printer.js';

const S = 1_000_000_000n;
const MIN = 60n * S;
const HOUR = 60n * MIN;

const m = (name: string, op: Matcher['op'], value: string): Matcher => ({ name, op, value });
const eq = (name: string, value: string) => m(name, '=', value);
const log = (matchers: Matcher[], ...pipeline: PipelineStage[]): LogSelectorExpr => ({ kind: 'log', matchers, pipeline });
const APP = [eq('app', 'api')];
const lf = (expr: LabelFilterExpr): PipelineStage => ({ kind: 'label_filter', expr });
const str = (name: string, op: Matcher['op'], value: string): LabelFilterExpr => ({ kind: 'string', matcher: m(name, op, value) });
const num = (name: string, op: '==' | '!=' | '>' | '>=' | '<' | '<=', value: number): LabelFilterExpr => ({ kind: 'number', name, op, value });
const lit = (value: number): SampleExpr => ({ kind: 'literal', value });
const count5m = (): SampleExpr => ({ kind: 'range_agg', op: 'count_over_time', selector: log(APP), range: 5n * MIN });

/** Parses, prints, parses again: the printed text must mean exactly the same tree. */
function roundTrip(q: string): Expr {
  const first = parseExpr(q);
  const printed = printExpr(first);
  let second: Expr;
  try {
    second = parseExpr(printed);
  } catch (e) {
    throw new Error(`printed form of ${JSON.stringify(q)} does not parse: ${printed}\n${(e as Error).message}`);
  }
  expect(second, `printed: ${printed}`).toEqual(first);
  // Printing is canonical: the printed text prints to itself.
  expect(printExpr(second)).toBe(printed);
  return first;
}

// ---------------------------------------------------------------- valid queries with their trees

const EXPECTED: [string, Expr][] = [
  ['{app="api"}', log(APP)],
  ['{app="api", env=~"prod|staging", team!="x", pod!~"tmp-.*"}', log([eq('app', 'api'), m('env', '=~', 'prod|staging'), m('team', '!=', 'x'), m('pod', '!~', 'tmp-.*')])],
  ['{app=`a"b`}', log([eq('app', 'a"b')])],
  ['{app="api",}', log(APP)],
  ['{app="api"} |= "err"', log(APP, { kind: 'line_filter', op: '|=', values: ['err'] })],
  ['{app="api"} |= "a" or "b" != "c" |~ `\\d+` !~ "x|y"', log(APP,
    { kind: 'line_filter', op: '|=', values: ['a', 'b'] },
    { kind: 'line_filter', op: '!=', values: ['c'] },
    { kind: 'line_filter', op: '|~', values: ['\\d+'] },
    { kind: 'line_filter', op: '!~', values: ['x|y'] })],
  ['{app="api"} | json', log(APP, { kind: 'json', params: [] })],
  ['{app="api"} | json code="response.code", d', log(APP, { kind: 'json', params: [{ label: 'code', expr: 'response.code' }, { label: 'd', expr: 'd' }] })],
  ['{app="api"} | logfmt --strict --keep-empty a, b="c"', log(APP, { kind: 'logfmt', strict: true, keepEmpty: true, params: [{ label: 'a', expr: 'a' }, { label: 'b', expr: 'c' }] })],
  ['{app="api"} | logfmt', log(APP, { kind: 'logfmt', strict: false, keepEmpty: false, params: [] })],
  ['{app="api"} | regexp `(?P<ip>\\S+) (?P<verb>\\w+)`', log(APP, { kind: 'regexp', pattern: '(?P<ip>\\S+) (?P<verb>\\w+)' })],
  ['{app="api"} | pattern "<ip> - <_> \\"<method> <uri>\\""', log(APP, { kind: 'pattern', pattern: '<ip> - <_> "<method> <uri>"' })],
  ['{app="api"} | unpack | decolorize', log(APP, { kind: 'unpack' }, { kind: 'decolorize' })],
  ['{app="api"} | status >= 400', log(APP, lf(num('status', '>=', 400)))],
  ['{app="api"} | status = 200', log(APP, lf(num('status', '==', 200)))],
  ['{app="api"} | x > -1.5', log(APP, lf(num('x', '>', -1.5)))],
  ['{app="api"} | level="error" or level="warn"', log(APP, lf({ kind: 'or', left: str('level', '=', 'error'), right: str('level', '=', 'warn') }))],
  ['{app="api"} | level=~"err.*", a!~"b"', log(APP, lf({ kind: 'and', left: str('level', '=~', 'err.*'), right: str('a', '!~', 'b') }))],
  ['{app="api"} | duration > 1m30s and (x == 2 or y != "z")', log(APP, lf({
    kind: 'and',
    left: { kind: 'duration', name: 'duration', op: '>', value: 90n * S },
    right: { kind: 'or', left: num('x', '==', 2), right: str('y', '!=', 'z') },
  }))],
  ['{app="api"} | size > 20MB', log(APP, lf({ kind: 'bytes', name: 'size', op: '>', value: 20e6 }))],
  ['{app="api"} | size <= 1.5KiB', log(APP, lf({ kind: 'bytes', name: 'size', op: '<=', value: 1536 }))],
  ['{app="api"} | a="b", c="d"', log(APP, lf({ kind: 'and', left: str('a', '=', 'b'), right: str('c', '=', 'd') }))],
  ['{app="api"} | a="b" c="d"', log(APP, lf({ kind: 'and', left: str('a', '=', 'b'), right: str('c', '=', 'd') }))],
  ['{app="api"} | a="b" or c="d" and e="f"', log(APP, lf({ kind: 'or', left: str('a', '=', 'b'), right: { kind: 'and', left: str('c', '=', 'd'), right: str('e', '=', 'f') } }))],
  ['{app="api"} | a="b" and c="d" or e="f"', log(APP, lf({ kind: 'or', left: { kind: 'and', left: str('a', '=', 'b'), right: str('c', '=', 'd') }, right: str('e', '=', 'f') }))],
  ['{app="api"} | addr = ip("10.0.0.0/8")', log(APP, lf({ kind: 'ip', name: 'addr', op: '=', pattern: '10.0.0.0/8' }))],
  ['{app="api"} | addr != ip("192.168.0.1-192.168.0.9")', log(APP, lf({ kind: 'ip', name: 'addr', op: '!=', pattern: '192.168.0.1-192.168.0.9' }))],
  ['{app="api"} | line_format "{{.status}} {{.msg}}"', log(APP, { kind: 'line_format', template: '{{.status}} {{.msg}}' })],
  ['{app="api"} | label_format a=b, c="{{.d}}"', log(APP, { kind: 'label_format', items: [{ dst: 'a', rename: 'b' }, { dst: 'c', template: '{{.d}}' }] })],
  ['{app="api"} | drop a, b="c", d=~"e.*"', log(APP, { kind: 'drop', items: [{ name: 'a' }, { name: 'b', matcher: eq('b', 'c') }, { name: 'd', matcher: m('d', '=~', 'e.*') }] })],
  ['{app="api"} | keep a, b', log(APP, { kind: 'keep', items: [{ name: 'a' }, { name: 'b' }] })],
  ['{app="api"} | json = "x"', log(APP, lf(str('json', '=', 'x')))],
  ['{json="x", offset="y", by="z"}', log([eq('json', 'x'), eq('offset', 'y'), eq('by', 'z')])],
  ['({app="api"} |= "a") | json', log(APP, { kind: 'line_filter', op: '|=', values: ['a'] }, { kind: 'json', params: [] })],
  ['count_over_time({app="api"}[5m])', count5m()],
  ['count_over_time({app="api"} |= "x" [5m] offset 1h)', {
    kind: 'range_agg', op: 'count_over_time', selector: log(APP, { kind: 'line_filter', op: '|=', values: ['x'] }), range: 5n * MIN, offset: HOUR,
  }],
  ['count_over_time({app="api"}[5m] |= "x")', {
    kind: 'range_agg', op: 'count_over_time', selector: log(APP, { kind: 'line_filter', op: '|=', values: ['x'] }), range: 5n * MIN,
  }],
  ['count_over_time(({app="api"} |= "x")[5m])', {
    kind: 'range_agg', op: 'count_over_time', selector: log(APP, { kind: 'line_filter', op: '|=', values: ['x'] }), range: 5n * MIN,
  }],
  ['sum_over_time({app="api"} | unwrap latency [1m])', {
    kind: 'range_agg', op: 'sum_over_time', selector: log(APP), unwrap: { label: 'latency', postFilters: [] }, range: MIN,
  }],
  ['avg_over_time({app="api"} | logfmt | unwrap duration(took) | __error__="" [1m]) by (path)', {
    kind: 'range_agg', op: 'avg_over_time', selector: log(APP, { kind: 'logfmt', strict: false, keepEmpty: false, params: [] }),
    unwrap: { label: 'took', conversion: 'duration', postFilters: [str('__error__', '=', '')] }, range: MIN,
    grouping: { without: false, labels: ['path'] },
  }],
  ['quantile_over_time(0.99, {app="api"} | unwrap bytes(size) [1m]) without (pod)', {
    kind: 'range_agg', op: 'quantile_over_time', param: 0.99, selector: log(APP), unwrap: { label: 'size', conversion: 'bytes', postFilters: [] },
    range: MIN, grouping: { without: true, labels: ['pod'] },
  }],
  ['rate({app="api"} | unwrap duration_seconds(t) [1m])', {
    kind: 'range_agg', op: 'rate', selector: log(APP), unwrap: { label: 't', conversion: 'duration_seconds', postFilters: [] }, range: MIN,
  }],
  ['sum by (app) (count_over_time({app="api"}[5m]))', { kind: 'vector_agg', op: 'sum', grouping: { without: false, labels: ['app'] }, expr: count5m() }],
  ['sum(count_over_time({app="api"}[5m])) without (pod, node)', { kind: 'vector_agg', op: 'sum', grouping: { without: true, labels: ['pod', 'node'] }, expr: count5m() }],
  ['sum by () (count_over_time({app="api"}[5m]))', { kind: 'vector_agg', op: 'sum', grouping: { without: false, labels: [] }, expr: count5m() }],
  ['topk(5, count_over_time({app="api"}[5m]))', { kind: 'vector_agg', op: 'topk', param: 5, expr: count5m() }],
  ['bottomk by (a) (2, count_over_time({app="api"}[5m]))', { kind: 'vector_agg', op: 'bottomk', param: 2, grouping: { without: false, labels: ['a'] }, expr: count5m() }],
  ['sort_desc(count_over_time({app="api"}[5m]))', { kind: 'vector_agg', op: 'sort_desc', expr: count5m() }],
  ['1', lit(1)],
  ['-1.5', lit(-1.5)],
  ['+2', lit(2)],
  ['1e3', lit(1000)],
  ['NaN', lit(NaN)],
  ['-Inf', lit(-Infinity)],
  ['inf', lit(Infinity)],
  ['vector(1)', { kind: 'vector', value: 1 }],
  ['vector(-2)', { kind: 'vector', value: -2 }],
  ['1 + 2 * 3', { kind: 'binary', op: '+', bool: false, left: lit(1), right: { kind: 'binary', op: '*', bool: false, left: lit(2), right: lit(3) } }],
  ['(1 + 2) * 3', { kind: 'binary', op: '*', bool: false, left: { kind: 'binary', op: '+', bool: false, left: lit(1), right: lit(2) }, right: lit(3) }],
  ['1 - 2 - 3', { kind: 'binary', op: '-', bool: false, left: { kind: 'binary', op: '-', bool: false, left: lit(1), right: lit(2) }, right: lit(3) }],
  ['2 ^ 3 ^ 2', { kind: 'binary', op: '^', bool: false, left: lit(2), right: { kind: 'binary', op: '^', bool: false, left: lit(3), right: lit(2) } }],
  ['2 * 3 ^ 2', { kind: 'binary', op: '*', bool: false, left: lit(2), right: { kind: 'binary', op: '^', bool: false, left: lit(3), right: lit(2) } }],
  ['1 - -1', { kind: 'binary', op: '-', bool: false, left: lit(1), right: lit(-1) }],
  ['count_over_time({app="api"}[5m]) > bool 10', { kind: 'binary', op: '>', bool: true, left: count5m(), right: lit(10) }],
  ['count_over_time({app="api"}[5m]) / on (a, b) group_left (c) count_over_time({app="api"}[5m])', {
    kind: 'binary', op: '/', bool: false, matching: { on: true, labels: ['a', 'b'], group: { side: 'left', include: ['c'] } }, left: count5m(), right: count5m(),
  }],
  ['count_over_time({app="api"}[5m]) * ignoring (pod) group_right count_over_time({app="api"}[5m])', {
    kind: 'binary', op: '*', bool: false, matching: { on: false, labels: ['pod'], group: { side: 'right', include: [] } }, left: count5m(), right: count5m(),
  }],
  ['count_over_time({app="api"}[5m]) or count_over_time({app="api"}[5m]) and count_over_time({app="api"}[5m])', {
    kind: 'binary', op: 'or', bool: false, left: count5m(), right: { kind: 'binary', op: 'and', bool: false, left: count5m(), right: count5m() },
  }],
  ['count_over_time({app="api"}[5m]) unless on () vector(1)', {
    kind: 'binary', op: 'unless', bool: false, matching: { on: true, labels: [] }, left: count5m(), right: { kind: 'vector', value: 1 },
  }],
  ['label_replace(count_over_time({app="api"}[5m]), "dst", "$1", "src", "(.*)-x")', {
    kind: 'label_replace', expr: count5m(), dst: 'dst', replacement: '$1', src: 'src', regex: '(.*)-x',
  }],
  [`# requests per app
sum by (app) (   # grouped
  rate({app="api"} # the stream
    |= "err" [5m])
)`, { kind: 'vector_agg', op: 'sum', grouping: { without: false, labels: ['app'] }, expr: {
    kind: 'range_agg', op: 'rate', selector: log(APP, { kind: 'line_filter', op: '|=', values: ['err'] }), range: 5n * MIN,
  } }],
];

describe('parseExpr: trees', () => {
  it.each(EXPECTED)('%s', (q, tree) => {
    expect(parseExpr(q)).toEqual(tree);
    roundTrip(q);
  });
});

// ---------------------------------------------------------------- valid queries, round-tripped

const VALID: string[] = [
  // selectors
  '{a="b"}',
  '{a=~".+"}',
  '{a!=""}',
  '{a!~".*"}',
  '{a=~"(?i)err.*"}',
  '{a=~`\\d+`}',
  '{a="line\\nbreak \\"quoted\\" back\\\\slash tab\\t"}',
  '{a="é ☃ 😀"}',
  '{a="\\x00\\x7f"}',
  '{ a = "b" , c != "d" }',
  '({a="b"})',
  '(({a="b"} |= "x"))',
  // line filters
  '{a="b"} |= "x" |= "y"',
  '{a="b"} != "x" or "y" or "z"',
  '{a="b"} |~ "(?i)error|warn"',
  '{a="b"} !~ `^\\s*$`',
  '{a="b"}|="x"|json|x>=5',
  // parsers
  '{a="b"} | json | line_format "{{.msg}}"',
  '{a="b"} | json first_server="servers[0]", ua="request.headers[\\"User-Agent\\"]"',
  '{a="b"} | logfmt --keep-empty',
  '{a="b"} | logfmt --strict | level="error"',
  '{a="b"} | regexp "(?P<method>\\\\w+) (?P<path>[^ ]+)"',
  '{a="b"} | pattern `<_> <status> <_>`',
  '{a="b"} | unpack | line_format "{{.msg}}"',
  '{a="b"} | decolorize',
  // label filters
  '{a="b"} | json | status >= 400 and status < 500',
  '{a="b"} | json | (status >= 400 or status == 0) and level != "info"',
  '{a="b"} | logfmt | duration > 250ms',
  '{a="b"} | logfmt | took <= 1h30m15s',
  '{a="b"} | logfmt | size >= 1GiB or size < 10KB',
  '{a="b"} | x == NaN',
  '{a="b"} | x > -Inf',
  '{a="b"} | x = 1e-3',
  '{a="b"} | logfmt | a="b" | c=~"d.*" | e!~"f"',
  '{a="b"} | logfmt | a="b", c="d", e="f"',
  '{a="b"} | logfmt | a="b" or (c="d" or e="f")',
  '{a="b"} | logfmt | a="b" and (c="d" and e="f")',
  '{a="b"} | addr=ip("2001:db8::/32")',
  '{a="b"} | addr=ip("::1")',
  '{a="b"} | addr=ip("10.1.2.3")',
  '{a="b"} | or="x" or and="y"',
  // formatting stages
  '{a="b"} | label_format level=lvl',
  '{a="b"} | label_format msg="{{.a | ToUpper}} \\"{{.b}}\\""',
  '{a="b"} | drop __error__, __error_details__',
  '{a="b"} | keep level, app="api"',
  '{a="b"} | line_format `{{ .a }}\n{{ .b }}`',
  // range aggregations
  'rate({a="b"}[1m])',
  'rate({a="b"}[90s])',
  'bytes_over_time({a="b"}[1h])',
  'bytes_rate({a="b"} |= "x" [1d])',
  'absent_over_time({a="b"}[1w])',
  'absent_over_time({a="b"} | unwrap x [1m])',
  'count_over_time({a="b"}[1h30m])',
  'count_over_time({a="b"}[1500ms])',
  'count_over_time({a="b"}[2d12h])',
  'count_over_time({a="b"} | json | x="y" [5m] offset 10m)',
  'count_over_time({a="b"}[5m] offset 1d | json)',
  'count_over_time(({a="b"})[5m])',
  'count_over_time(({a="b"} | json)[5m] | x="y")',
  'min_over_time({a="b"} | unwrap x [1m]) by (a)',
  'max_over_time({a="b"} | unwrap x [1m]) without (a)',
  'first_over_time({a="b"} | unwrap x [1m])',
  'last_over_time({a="b"} | unwrap x [1m]) by (a, b)',
  'stddev_over_time({a="b"} | unwrap x [1m])',
  'stdvar_over_time({a="b"} | unwrap x [1m])',
  'rate_counter({a="b"} | unwrap x [1m])',
  'sum_over_time({a="b"}[1m] | unwrap x)',
  'sum_over_time({a="b"} | json | unwrap x | __error__="" | x > 0 [1m])',
  'sum_over_time({a="b"} | unwrap x [1m] | __error__="")',
  'quantile_over_time(0.5, {a="b"} | unwrap x [1m])',
  'quantile_over_time(1, {a="b"} | unwrap x [1m]) by (a)',
  // vector aggregations
  'sum(rate({a="b"}[1m]))',
  'avg(rate({a="b"}[1m]))',
  'min(rate({a="b"}[1m]))',
  'max(rate({a="b"}[1m]))',
  'count(rate({a="b"}[1m]))',
  'stddev(rate({a="b"}[1m]))',
  'stdvar(rate({a="b"}[1m]))',
  'sort(rate({a="b"}[1m]))',
  'sum without (a) (rate({a="b"}[1m]))',
  'sum(rate({a="b"}[1m])) by (a)',
  'topk(10, sum by (a) (rate({a="b"}[1m])))',
  'bottomk(3, rate({a="b"}[1m])) by (a)',
  'sum(vector(1))',
  'sum(sum(rate({a="b"}[1m])))',
  'sum(rate({a="b"}[1m]) + 1)',
  // binary operators
  'rate({a="b"}[1m]) * 100',
  '100 * rate({a="b"}[1m])',
  'rate({a="b"}[1m]) / rate({a="b"}[1m]) * 100',
  'rate({a="b"}[1m]) / (rate({a="b"}[1m]) * 100)',
  'rate({a="b"}[1m]) % 2',
  'rate({a="b"}[1m]) ^ 2 ^ 3',
  '(rate({a="b"}[1m]) ^ 2) ^ 3',
  'rate({a="b"}[1m]) - rate({a="b"}[1m]) - rate({a="b"}[1m])',
  'rate({a="b"}[1m]) - (rate({a="b"}[1m]) - rate({a="b"}[1m]))',
  'rate({a="b"}[1m]) == 1',
  'rate({a="b"}[1m]) != bool 1',
  'rate({a="b"}[1m]) >= 1',
  'rate({a="b"}[1m]) <= 1',
  'rate({a="b"}[1m]) < 1',
  'rate({a="b"}[1m]) > 1 < 2',
  'rate({a="b"}[1m]) > 1 and rate({a="b"}[1m]) < 5',
  'rate({a="b"}[1m]) or vector(0)',
  'rate({a="b"}[1m]) and on (a) rate({a="b"}[1m])',
  'rate({a="b"}[1m]) unless ignoring (a) rate({a="b"}[1m])',
  '(rate({a="b"}[1m]) or vector(0)) and rate({a="b"}[1m])',
  'rate({a="b"}[1m]) + on (a) group_left () rate({a="b"}[1m])',
  'rate({a="b"}[1m]) + on (a) group_left () (rate({a="b"}[1m]) - 1)',
  'rate({a="b"}[1m]) + on (a) group_right (c, d) rate({a="b"}[1m])',
  'sum by (a) (rate({a="b"}[1m])) / ignoring (b) group_left sum by (a, b) (rate({a="b"}[1m]))',
  '1 + 1',
  '2 * (3 + 4)',
  '-1 ^ 2',
  '1 > bool 2',
  '(1)',
  'vector(1) + vector(2)',
  'label_replace(rate({a="b"}[1m]), "foo", "$1", "service", "(.*):.*")',
  'label_replace(sum by (a) (rate({a="b"}[1m])), "a", "", "a", "")',
  // layout
  'sum\n(\n  rate(\n    {a="b"}\n    [1m]\n  )\n)',
  'sum by (a) (rate({a="b"}[1m])) # trailing comment',
  '\t{a="b"}\r\n|= "x"',
];

describe('parseExpr: round trip through the printer', () => {
  it.each(VALID)('%s', (q) => {
    roundTrip(q);
  });
});

// ---------------------------------------------------------------- invalid queries

interface Bad {
  q: string;
  line: number;
  col: number;
  msg: string;
}

const INVALID: Bad[] = [
  // selectors
  { q: '{foo="bar", bar}', line: 1, col: 16, msg: 'syntax error: unexpected }, expecting = or != or =~ or !~' },
  { q: '{foo="bar", bar baz="x"}', line: 1, col: 17, msg: 'syntax error: unexpected IDENTIFIER, expecting = or != or =~ or !~' },
  { q: '{foo="bar" bar="x"}', line: 1, col: 12, msg: 'syntax error: unexpected IDENTIFIER, expecting , or }' },
  { q: '{a=="b"}', line: 1, col: 3, msg: 'unexpected ==, expecting = or != or =~ or !~' },
  { q: '{a=b}', line: 1, col: 4, msg: 'syntax error: unexpected IDENTIFIER, expecting STRING' },
  { q: '{a="b"', line: 1, col: 7, msg: 'unexpected $end (end of input), expecting , or }' },
  { q: '{a="b}', line: 1, col: 4, msg: 'unterminated string' },
  { q: '{="b"}', line: 1, col: 2, msg: 'unexpected =, expecting IDENTIFIER or }' },
  { q: '{}', line: 1, col: 1, msg: 'queries require at least one regexp or equality matcher that does not have an empty-compatible value' },
  { q: '{a=~".*"}', line: 1, col: 1, msg: 'app=~".+" will' },
  { q: '{a=""}', line: 1, col: 1, msg: 'empty-compatible value' },
  { q: '{a!="x", b=~"a*"}', line: 1, col: 1, msg: 'empty-compatible value' },
  { q: '  {a=~"("}', line: 1, col: 7, msg: 'invalid regex "(":' },
  { q: '{a=~"x", b!~"["}', line: 1, col: 13, msg: 'invalid regex "["' },
  { q: '{a=~"(?=x)"}', line: 1, col: 5, msg: 'look-around' },
  { q: '{a=~"(a)\\\\1"}', line: 1, col: 5, msg: 'backreferences' },
  { q: 'a="b"', line: 1, col: 1, msg: 'syntax error: unexpected IDENTIFIER, expecting a stream selector like {app="x"}' },
  { q: '', line: 1, col: 1, msg: 'syntax error: unexpected $end (end of input), expecting a stream selector' },
  { q: '   # only a comment', line: 1, col: 20, msg: 'unexpected $end (end of input)' },
  // line filters
  { q: '{a="b"} |~ "\\d"', line: 1, col: 13, msg: 'invalid escape "\\d"' },
  { q: '{a="b"} |~ "("', line: 1, col: 12, msg: 'invalid regex "(": ' },
  { q: '{a="b"} != 2', line: 1, col: 12, msg: 'syntax error: unexpected NUMBER, expecting STRING' },
  { q: '{a="b"} |= "x" or', line: 1, col: 18, msg: 'unexpected $end (end of input), expecting STRING' },
  { q: '{a="b"} |= "x" or vector(1)', line: 1, col: 19, msg: 'syntax error: unexpected VECTOR, expecting STRING' },
  { q: '{a="b"} |~ ip("1.2.3.4")', line: 1, col: 12, msg: 'ip: invalid operation' },
  { q: '{a="b"} |= ip("1.2.3.4/40")', line: 1, col: 15, msg: 'ip: invalid pattern' },
  { q: '{a="b"} |> "<x> y"', line: 1, col: 12, msg: "named captures are not allowed: found '<x>'" },
  { q: '{a="b"} !> "a" or "<_><_>"', line: 1, col: 19, msg: "found consecutive capture '<_><_>'" },
  { q: '{a="b"} |~ "(a"', line: 1, col: 12, msg: 'error parsing regexp' },
  { q: '{a="b"} | regexp "(?P<x>a"', line: 1, col: 18, msg: 'error parsing regexp' },
  { q: '{a="b"} | regexp "(?P<x>a)(?P<x>b)"', line: 1, col: 18, msg: "duplicate extracted label name 'x'" },
  { q: '{a="b"} | json x="a..b"', line: 1, col: 18, msg: 'cannot parse expression' },
  { q: '{a="b"} |= "x" @', line: 1, col: 16, msg: 'unexpected character "@"' },
  { q: '{a="b"} "x"', line: 1, col: 9, msg: 'syntax error: unexpected STRING, expecting | or a line filter (|= != |~ !~) or end of input' },
  // stages
  { q: '{a="b"} |= "x" | foo', line: 1, col: 18, msg: 'unknown pipeline stage "foo": expecting a parser (json, logfmt, regexp, pattern, unpack)' },
  { q: '{a="b"} | 5', line: 1, col: 11, msg: 'unexpected NUMBER, expecting a parser (json, logfmt' },
  { q: '{a="b"} |', line: 1, col: 10, msg: 'unexpected $end (end of input), expecting a parser' },
  { q: '{a="b"} | logfmt --bogus', line: 1, col: 18, msg: 'unknown logfmt flag --bogus: allowed flags are --strict and --keep-empty' },
  { q: '{a="b"} | json a=b', line: 1, col: 18, msg: 'unexpected IDENTIFIER, expecting STRING (the expression to extract' },
  { q: '{a="b"} | json a,', line: 1, col: 18, msg: 'unexpected $end (end of input), expecting IDENTIFIER (a label name)' },
  { q: '{a="b"} | regexp', line: 1, col: 17, msg: 'unexpected $end (end of input), expecting STRING (the regular expression)' },
  { q: '{a="b"} | regexp `(\\w+)`', line: 1, col: 18, msg: 'at least one named capture must be supplied: the regexp stage needs a named capture group' },
  { q: '{a="b"} | regexp "(?P<a>"', line: 1, col: 18, msg: 'invalid regex "(?P<a>"' },
  { q: '{a="b"} | pattern "<_> foo"', line: 1, col: 19, msg: 'at least one capture is required: pattern "<_> foo" needs a named capture like <name>' },
  { q: '{a="b"} | pattern "<a><b>"', line: 1, col: 19, msg: "found consecutive capture '<a><b>': invalid expression" },
  { q: '{a="b"} | pattern "<a> <a>"', line: 1, col: 19, msg: 'duplicate capture name (a): invalid expression' },
  { q: '{a="b"} | line_format', line: 1, col: 22, msg: 'expecting STRING (the line template)' },
  { q: '{a="b"} | label_format a=b, a="c"', line: 1, col: 29, msg: 'label "a" is set more than once in a single label_format' },
  { q: '{a="b"} | label_format a=5', line: 1, col: 26, msg: 'unexpected NUMBER, expecting IDENTIFIER (a label to rename) or STRING (a template)' },
  { q: '{a="b"} | drop', line: 1, col: 15, msg: 'unexpected $end (end of input), expecting IDENTIFIER (a label name to drop)' },
  { q: '{a="b"} | keep a=~"("', line: 1, col: 19, msg: 'invalid regex "("' },
  // label filters
  { q: '{a="b"} | json | status > "x"', line: 1, col: 27, msg: 'label filter status > needs a number, duration or size' },
  { q: '{a="b"} | x > y', line: 1, col: 15, msg: 'unexpected IDENTIFIER, expecting STRING, NUMBER, DURATION, BYTES or ip("…")' },
  { q: '{a="b"} | x ~ 1', line: 1, col: 13, msg: 'unexpected character "~"' },
  { q: '{a="b"} | x "y"', line: 1, col: 13, msg: 'unexpected STRING, expecting = or != or =~ or !~ or == or > or >= or < or <=' },
  { q: '{a="b"} | x > 1 or', line: 1, col: 19, msg: 'unexpected $end (end of input), expecting IDENTIFIER (a label name) or (' },
  { q: '{a="b"} | (x > 1', line: 1, col: 17, msg: 'unexpected $end (end of input), expecting ) or and or or' },
  { q: '{a="b"} | x =~ 5', line: 1, col: 16, msg: 'unexpected NUMBER, expecting STRING' },
  { q: '{a="b"} | x =~ "("', line: 1, col: 16, msg: 'invalid regex' },
  { q: '{a="b"} | addr = ip("300.1.1.1")', line: 1, col: 21, msg: 'invalid IP pattern "300.1.1.1"' },
  { q: '{a="b"} | addr = ip("10.0.0.0/33")', line: 1, col: 21, msg: 'invalid prefix length "33"' },
  { q: '{a="b"} | addr = ip("10.0.0.1-::1")', line: 1, col: 21, msg: 'invalid IP range' },
  { q: '{a="b"} | addr > ip("1.1.1.1")', line: 1, col: 18, msg: 'syntax error: unexpected ip: ip() label filters only work with = and !=, not >' },
  // unwrap
  { q: '{a="b"} | unwrap x', line: 1, col: 11, msg: 'unwrap is only allowed inside a range aggregation' },
  { q: 'sum_over_time({a="b"} | unwrap foo(x) [1m])', line: 1, col: 32, msg: 'unknown unwrap conversion "foo": allowed are bytes(label), duration(label) and duration_seconds(label)' },
  { q: 'sum_over_time({a="b"} | unwrap x | json [1m])', line: 1, col: 36, msg: 'only label filters can follow unwrap, found json' },
  { q: 'sum_over_time({a="b"} | unwrap x |= "y" [1m])', line: 1, col: 34, msg: 'only label filters can follow unwrap, found the line filter |=' },
  { q: 'sum_over_time({a="b"} | unwrap [1m])', line: 1, col: 32, msg: 'syntax error: unexpected RANGE, expecting IDENTIFIER (the label to unwrap)' },
  { q: 'count_over_time({a="b"} | unwrap x [5m])', line: 1, col: 27, msg: 'invalid aggregation count_over_time with unwrap' },
  { q: 'bytes_rate({a="b"} | unwrap x [5m])', line: 1, col: 22, msg: 'invalid aggregation bytes_rate with unwrap' },
  { q: 'bytes_over_time({a="b"} | unwrap x [5m])', line: 1, col: 27, msg: 'invalid aggregation bytes_over_time with unwrap' },
  { q: 'sum_over_time({a="b"}[5m])', line: 1, col: 1, msg: 'invalid aggregation sum_over_time without unwrap' },
  { q: 'rate_counter({a="b"}[5m])', line: 1, col: 1, msg: 'invalid aggregation rate_counter without unwrap' },
  { q: 'quantile_over_time(0.9, {a="b"}[5m])', line: 1, col: 1, msg: 'invalid aggregation quantile_over_time without unwrap' },
  // range aggregations
  { q: 'rate({a="b"}[5m]) by (a)', line: 1, col: 19, msg: 'grouping not allowed for rate aggregation' },
  { q: 'sum_over_time({a="b"} | unwrap x [5m]) by (a)', line: 1, col: 40, msg: 'grouping not allowed for sum_over_time aggregation' },
  { q: 'quantile_over_time({a="b"} | unwrap x [1m])', line: 1, col: 20, msg: 'quantile_over_time needs the quantile as its first argument' },
  { q: 'count_over_time(0.5, {a="b"}[1m])', line: 1, col: 17, msg: 'count_over_time does not take a parameter' },
  { q: 'count_over_time({a="b"}[5m:1m])', line: 1, col: 27, msg: 'subqueries like [5m:1m] are not supported' },
  { q: 'count_over_time({a="b"}[5])', line: 1, col: 25, msg: 'range [5] needs a unit' },
  { q: 'count_over_time({a="b"}[0s])', line: 1, col: 25, msg: 'range [0s] must be greater than zero' },
  { q: 'count_over_time({a="b"}[5m)', line: 1, col: 27, msg: 'syntax error: unexpected ), expecting ]' },
  { q: 'count_over_time({a="b"})', line: 1, col: 24, msg: 'count_over_time needs a range after the log query' },
  { q: 'count_over_time({a="b"} foo)', line: 1, col: 25, msg: 'unexpected IDENTIFIER, expecting | or [ (the range, like [5m])' },
  { q: 'count_over_time({a="b"}[5m] offset)', line: 1, col: 35, msg: 'unexpected ), expecting DURATION after offset' },
  { q: 'count_over_time({a="b"}[5m] offset 5)', line: 1, col: 36, msg: 'unexpected NUMBER, expecting DURATION after offset' },
  { q: 'rate({a="b"}[1m]) offset 5m', line: 1, col: 19, msg: 'offset belongs inside the range aggregation, right after the range' },
  { q: 'count_over_time({a="b"}[5m][5m])', line: 1, col: 28, msg: 'the range is given twice' },
  { q: 'count_over_time(rate({a="b"}[5m]))', line: 1, col: 17, msg: 'syntax error: unexpected RATE, expecting { (a log query with a range' },
  { q: 'count_over_time({a="b"}[5m]', line: 1, col: 28, msg: 'unexpected $end (end of input), expecting ) or | or offset' },
  { q: '{a="b"}[5m]', line: 1, col: 8, msg: 'a range like [5m] is only allowed inside a range aggregation' },
  { q: '({a="b"} |= "x")[5m]', line: 1, col: 17, msg: 'a range like [5m] is only allowed inside a range aggregation' },
  { q: 'rate(5m)', line: 1, col: 6, msg: 'unexpected DURATION, expecting {' },
  { q: '5m', line: 1, col: 1, msg: 'unexpected DURATION 5m: a range like [5m] belongs inside a range aggregation' },
  // vector aggregations
  { q: 'sum({a="b"})', line: 1, col: 5, msg: 'sum needs a range aggregation around the log query' },
  { q: 'sum by (a) ({a="b"} |= "x")', line: 1, col: 13, msg: 'sum needs a range aggregation' },
  { q: 'sum(1)', line: 1, col: 5, msg: 'sum needs a vector, such as rate({…} [5m]) or vector(1), not a number' },
  { q: 'topk(0, rate({a="b"}[5m]))', line: 1, col: 6, msg: 'invalid parameter (must be greater than 0) topk(0: the number of series must be at least 1' },
  { q: 'topk(1.5, rate({a="b"}[5m]))', line: 1, col: 6, msg: 'invalid parameter topk(1.5,: the number of series must be a whole number' },
  { q: 'topk(1e1, rate({a="b"}[5m]))', line: 1, col: 6, msg: 'invalid parameter topk(1e1,' },
  { q: 'bottomk(-2, rate({a="b"}[5m]))', line: 1, col: 9, msg: 'invalid parameter (must be greater than 0) bottomk(-2' },
  { q: 'topk(rate({a="b"}[5m]))', line: 1, col: 6, msg: 'parameter required for operation topk: topk needs the number of series as its first argument' },
  { q: 'topk(5 rate({a="b"}[5m]))', line: 1, col: 8, msg: 'syntax error: unexpected RATE, expecting ,' },
  { q: 'sum(5, rate({a="b"}[5m]))', line: 1, col: 5, msg: 'unsupported parameter for operation sum(5,: sum does not take a parameter; only topk, bottomk and approx_topk do' },
  { q: 'sum by (a) (rate({a="b"}[1m])) by (b)', line: 1, col: 32, msg: 'sum: give by/without either before or after the parentheses, not both' },
  { q: 'sort by (a) (rate({a="b"}[1m]))', line: 1, col: 6, msg: 'grouping not allowed for sort' },
  { q: 'sort_desc(rate({a="b"}[1m])) without (a)', line: 1, col: 30, msg: 'grouping not allowed for sort_desc' },
  { q: 'sum by (a (rate({a="b"}[1m]))', line: 1, col: 11, msg: 'unexpected (, expecting , or )' },
  { q: 'sum by (a.b) (rate({a="b"}[1m]))', line: 1, col: 10, msg: 'unexpected character "."' },
  { q: 'sum by ("a") (rate({a="b"}[1m]))', line: 1, col: 9, msg: 'unexpected STRING, expecting IDENTIFIER or )' },
  { q: 'sum(rate({a="b"}[1m])', line: 1, col: 22, msg: 'unexpected $end (end of input), expecting ) or a binary operator' },
  { q: 'sum(rate({a="b"}[1m])))', line: 1, col: 23, msg: 'unexpected ), expecting a binary operator or end of input' },
  { q: 'foo(1)', line: 1, col: 1, msg: 'unknown function "foo": LogQL has the range aggregations count_over_time' },
  { q: 'histogram_quantile(0.9, rate({a="b"}[1m]))', line: 1, col: 1, msg: 'unknown function "histogram_quantile"' },
  { q: 'vector("x")', line: 1, col: 8, msg: 'unexpected STRING, expecting NUMBER, like vector(1)' },
  { q: 'label_replace(rate({a="b"}[1m]), "1x", "", "a", "(.*)")', line: 1, col: 34, msg: 'invalid destination label name "1x" in label_replace' },
  { q: 'label_replace(rate({a="b"}[1m]), "dst", "", "a", "(")', line: 1, col: 50, msg: 'invalid regex in label_replace: "("' },
  { q: 'label_replace(rate({a="b"}[1m]), "dst", "", "a")', line: 1, col: 48, msg: 'unexpected ), expecting , (label_replace takes the arguments expr, "dst", "replacement", "src", "regex")' },
  { q: 'label_replace({a="b"}, "dst", "", "a", "")', line: 1, col: 15, msg: 'label_replace needs a range aggregation' },
  // binary operators
  { q: '{a="b"} + 1', line: 1, col: 1, msg: 'a log query cannot be an operand of +: it needs a range aggregation' },
  { q: 'rate({a="b"}[1m]) / {a="b"}', line: 1, col: 21, msg: 'a log query cannot be an operand of /' },
  { q: '1 and 2', line: 1, col: 3, msg: 'set operator and needs a vector on both sides, not a number' },
  { q: 'rate({a="b"}[1m]) or 1', line: 1, col: 19, msg: 'set operator or needs a vector on both sides' },
  { q: 'rate({a="b"}[1m]) + bool 1', line: 1, col: 21, msg: 'bool modifier can only be used on comparison operators (== != > >= < <=), not +' },
  { q: 'rate({a="b"}[1m]) > on (a) 1', line: 1, col: 19, msg: 'vector matching (on/ignoring) is only allowed between two vectors' },
  { q: 'rate({a="b"}[1m]) / group_left rate({a="b"}[1m])', line: 1, col: 21, msg: 'group_left must follow on(…) or ignoring(…)' },
  { q: 'rate({a="b"}[1m]) and on (a) group_left rate({a="b"}[1m])', line: 1, col: 30, msg: 'group_left is not allowed with the set operator and' },
  { q: 'rate({a="b"}[1m]) / on (a) group_left (a) rate({a="b"}[1m])', line: 1, col: 28, msg: 'label "a" must not occur in both on(…) and group_left(…)' },
  { q: 'rate({a="b"}[1m]) +', line: 1, col: 20, msg: 'unexpected $end (end of input), expecting a stream selector like {app="x"}, a function like rate(…) or sum(…), a number or (' },
  { q: 'rate({a="b"}[1m]) = 1', line: 1, col: 19, msg: 'unexpected =, expecting a binary operator or end of input' },
  { q: '-rate({a="b"}[1m])', line: 1, col: 1, msg: 'unary - is only allowed before a number' },
  { q: '1 + (2', line: 1, col: 7, msg: 'unexpected $end (end of input), expecting ) or a binary operator' },
  { q: '()', line: 1, col: 2, msg: 'unexpected ), expecting a stream selector' },
  // positions across lines and comments
  {
    q: 'sum by (app) (\n  rate({app="x"}\n    |= "error"\n    | json\n    | status >= "500" [5m])\n)',
    line: 5, col: 17, msg: 'label filter status >= needs a number, duration or size',
  },
  {
    q: '# errors per app\nsum by (app) (  # group\n  count_over_time({app="x"} |= "err" [5m) # oops\n)',
    line: 3, col: 41, msg: 'syntax error: unexpected ), expecting ]',
  },
  { q: 'sum(rate({a="b"}[1m]) # )', line: 1, col: 26, msg: 'unexpected $end (end of input), expecting ) or a binary operator' },
  { q: '{a="b"} |= `a\nb` | foo', line: 2, col: 6, msg: 'unknown pipeline stage "foo"' },
  { q: '{a="b"}\n\n  |= "abc\n"', line: 3, col: 6, msg: 'unterminated string' },
  { q: '{a="b"}\r\n| json\r\n| x > "y"', line: 3, col: 7, msg: 'label filter x > needs a number' },
  { q: '{a="😀"} | foo', line: 1, col: 11, msg: 'unknown pipeline stage "foo"' },
];

describe('parseExpr: errors', () => {
  it.each(INVALID)('$q', ({ q, line, col, msg }) => {
    let err: unknown;
    try {
      parseExpr(q);
    } catch (e) {
      err = e;
    }
    expect(err, `expected ${JSON.stringify(q)} to fail`).toBeInstanceOf(ParseError);
    const pe = err as ParseError;
    expect(pe.message).toContain(msg);
    expect({ line: pe.line, col: pe.col }).toEqual({ line, col });
    expect(pe.message.startsWith(`parse error at line ${line}, col ${col}: `)).toBe(true);
  });
});

describe('parseSelector', () => {
  it('parses a bare selector into matchers', () => {
    expect(parseSelector('{app="api", env=~"prod.*"}')).toEqual([eq('app', 'api'), m('env', '=~', 'prod.*')]);
  });

  it('accepts comments and whitespace around the selector', () => {
    expect(parseSelector('  {app="api"} # match[]\n')).toEqual([eq('app', 'api')]);
  });

  it('refuses a pipeline', () => {
    expect(() => parseSelector('{app="api"} |= "x"')).toThrow('parse error at line 1, col 13: only label matchers are supported: a series selector is a bare {…} without a pipeline');
  });

  it('refuses anything that is not a selector', () => {
    expect(() => parseSelector('rate({a="b"}[1m])')).toThrow('parse error at line 1, col 1: syntax error: unexpected RATE, expecting { to start a stream selector');
    expect(() => parseSelector('{a="b"} {c="d"}')).toThrow('col 9: syntax error: unexpected {, expecting end of input');
  });

  it('applies the non-empty matcher rule', () => {
    expect(() => parseSelector('{a=~".*"}')).toThrow('empty-compatible value');
  });
});

describe('parseLogSelector', () => {
  it('returns a log query with its pipeline', () => {
    expect(parseLogSelector('{app="api"} |= "x"')).toEqual(log(APP, { kind: 'line_filter', op: '|=', values: ['x'] }));
  });

  it('refuses a metric query', () => {
    expect(() => parseLogSelector('  rate({a="b"}[1m])')).toThrow('parse error at line 1, col 3: only log selector is supported: expecting a log query like {app="x"} |= "error", but this is a metric query (a range aggregation)');
  });
});

describe('parser speed guard', () => {
  it('parses a long query without blowing the stack', () => {
    const q = Array.from({ length: 500 }, () => 'rate({a="b"}[1m])').join(' + ');
    const e = parseExpr(q);
    expect(e.kind).toBe('binary');
    roundTrip(q);
  });

  it('parses a long pipeline', () => {
    const q = '{a="b"}' + ' |= "x" | json | status >= 400'.repeat(300);
    expect((parseExpr(q) as LogSelectorExpr).pipeline).toHaveLength(900);
  });
});
