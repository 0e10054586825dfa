/**
 * Every error a query can produce carries the phrase Loki 3.7 uses for the same condition, next to narvi's own
 * explanation. Loki's phrases were read from its grammar, lexer, AST constructors and evaluator; the token names
 * follow its lexer (keywords by their text, called functions in capitals, `$end` for the end of the query).
 */
import { describe, expect, it } from 'vitest';
import type { SampleExpr } from '../../query/ast.js';
import { QueryEvalError } from '../../query/engine.js';
import { tokenize } from '../../query/lexer.js';
import { parseExpr, parseLogSelector, parseSelector } from '../../query/parser.js';
import { parseErrorOf } from './parse-error-of.js';
import { tokenLabel } from '../../query/parse/token-name.js';
import { instantQuery } from './eval/helpers.js';
import { MemorySource, sec, type MemStream } from './eval/memory-source.js';

interface Case {
  q: string;
  /** Loki's wording for the condition. */
  loki: string;
  /** narvi's own key phrase, which must still be there. */
  narvi: string;
  /** Where narvi points, when the case pins it. */
  at?: [line: number, col: number];
}

const R = 'rate({a="b"}[1m])';

const PARSE_CASES: Case[] = [
  // literals as operands of and/or/unless: Loki folds `1 + 2` to 3 and prints the value with Go's %f
  { q: `1 and ${R}`, loki: 'unexpected literal for left leg of logical/set binary operation (and): 1.000000', narvi: 'set operator and needs a vector on both sides, not a number', at: [1, 3] },
  { q: `${R} unless 1`, loki: 'unexpected literal for right leg of logical/set binary operation (unless): 1.000000', narvi: 'set operator unless needs a vector' },
  { q: `(1 + 2) or ${R}`, loki: 'unexpected literal for left leg of logical/set binary operation (or): 3.000000', narvi: 'needs a vector on both sides' },
  // `>` binds tighter than `or`: the right leg is 1 > 2, which folds to 0
  { q: `${R} or 1 > 2`, loki: 'unexpected literal for right leg of logical/set binary operation (or): 0.000000', narvi: 'needs a vector on both sides' },
  { q: `${R} and -0.5`, loki: 'unexpected literal for right leg of logical/set binary operation (and): -0.500000', narvi: 'needs a vector on both sides' },
  { q: `${R} and 2 ^ 0.5`, loki: '(and): 1.414214', narvi: 'needs a vector on both sides' },
  // bool where the grammar has no place for it
  { q: 'bool 1 > 1', loki: 'syntax error: unexpected bool', narvi: 'expecting a stream selector', at: [1, 1] },
  { q: `${R} and bool ${R}`, loki: 'syntax error: unexpected bool', narvi: 'the bool modifier can only be used on comparison operators (== != > >= < <=), not and', at: [1, 23] },
  { q: `${R} + bool ${R}`, loki: 'syntax error: unexpected bool', narvi: 'only be used on comparison operators' },
  { q: `${R} > on (a) bool ${R}`, loki: 'syntax error: unexpected bool', narvi: 'expecting a stream selector' },
  { q: `sum(${R}) bool`, loki: 'syntax error: unexpected bool', narvi: 'expecting a binary operator or end of input' },
  // unary minus only before a number literal
  { q: `-${R}`, loki: 'syntax error: unexpected RATE, expecting NUMBER', narvi: 'unary - is only allowed before a number', at: [1, 1] },
  { q: '-(1)', loki: 'syntax error: unexpected (, expecting NUMBER', narvi: 'write 0 - … or -1 * … to negate an expression' },
  { q: '+vector(1)', loki: 'syntax error: unexpected VECTOR, expecting NUMBER', narvi: 'unary + is only allowed before a number' },
  { q: '1 - -sum(vector(1))', loki: 'syntax error: unexpected SUM, expecting NUMBER', narvi: 'unary - is only allowed' },
  // log queries as operands
  { q: `{a="b"} / ${R}`, loki: 'unexpected type for left leg of binary operation (/): *syntax.MatchersExpr', narvi: 'a log query cannot be an operand of /', at: [1, 1] },
  { q: `${R} + {a="b"} |= "x"`, loki: 'unexpected type for right leg of binary operation (+): *syntax.PipelineExpr', narvi: 'a log query cannot be an operand of +', at: [1, 21] },
  { q: 'sum({a="b"})', loki: 'syntax error: unexpected )', narvi: 'sum needs a range aggregation around the log query' },
  { q: 'label_replace({a="b"}, "d", "", "a", "")', loki: 'syntax error: unexpected ,', narvi: 'label_replace needs a range aggregation' },
  // vector matching modifiers
  { q: `${R} / group_left ${R}`, loki: 'syntax error: unexpected group_left', narvi: 'group_left must follow on(…) or ignoring(…)' },
  // ranges: Loki parses what stands between [ and ] as one duration
  { q: 'count_over_time({a="b"}[5])', loki: 'not a valid duration string: "5"', narvi: 'range [5] needs a unit, like [5s] or [5m]', at: [1, 25] },
  { q: 'count_over_time({a="b"}[5m:1m])', loki: 'not a valid duration string: "5m:1m"', narvi: 'subqueries like [5m:1m] are not supported' },
  { q: 'count_over_time({a="b"}[])', loki: 'empty duration string', narvi: 'syntax error: unexpected ], expecting DURATION' },
  { q: 'count_over_time({a="b"}[5m', loki: "missing closing ']' in duration", narvi: 'expecting ]' },
  { q: 'count_over_time({a="b"}[5m)', loki: "missing closing ']' in duration", narvi: 'syntax error: unexpected ), expecting ]', at: [1, 27] },
  { q: 'count_over_time({a="b"}[5m x])', loki: 'not a valid duration string: "5m x"', narvi: 'syntax error: unexpected IDENTIFIER, expecting ]' },
  { q: 'rate({a="b"})', loki: 'syntax error: unexpected )', narvi: 'rate needs a range after the log query' },
  { q: '{a="b"}[5m]', loki: 'syntax error: unexpected RANGE', narvi: 'only allowed inside a range aggregation', at: [1, 8] },
  { q: '5m', loki: 'syntax error: unexpected DURATION', narvi: 'belongs inside a range aggregation' },
  { q: `${R} offset 1h`, loki: 'syntax error: unexpected offset', narvi: 'offset belongs inside the range aggregation' },
  { q: 'count_over_time({a="b"}[1m] [1m])', loki: 'syntax error: unexpected RANGE', narvi: 'the range is given twice', at: [1, 29] },
  // pipelines: a word Loki reads as the start of a label filter, unwrap where it has no place
  { q: '{a="b"} | foo', loki: 'syntax error: unexpected $end', narvi: 'unknown pipeline stage "foo"', at: [1, 11] },
  { q: '{a="b"} | foo | json', loki: 'syntax error: unexpected |', narvi: 'unknown pipeline stage "foo"' },
  { q: '{a="b"} | unwrap x', loki: 'syntax error: unexpected unwrap', narvi: 'unwrap is only allowed inside a range aggregation', at: [1, 11] },
  { q: 'sum_over_time({a="b"} | unwrap x | json [1m])', loki: 'syntax error: unexpected json', narvi: 'only label filters can follow unwrap, found json' },
  { q: 'sum_over_time({a="b"} | unwrap foo(x) [1m])', loki: 'syntax error: unexpected (', narvi: 'unknown unwrap conversion "foo"' },
  // line_format and label_format
  { q: '{a="b"} | line_format "{{.x"', loki: 'invalid line template', narvi: 'unclosed action', at: [1, 23] },
  { q: '{a="b"} | label_format y="{{.x"', loki: "invalid template for label 'y'", narvi: 'invalid label_format y template' },
  { q: '{a="b"} | label_format y="a", y="b"', loki: "multiple label name 'y' not allowed in a single format operation", narvi: 'is set more than once', at: [1, 31] },
  { q: '{a="b"} | label_format y=x, y=z', loki: "multiple label name 'y' not allowed in a single format operation", narvi: 'label "y" is set more than once' },
  { q: '{a="b"} | label_format __error__="x"', loki: '__error__ cannot be formatted', narvi: 'use a label filter on it instead', at: [1, 24] },
  // parameters, grouping and unwrap rules of aggregations
  { q: 'rate(5, {a="b"}[1m])', loki: 'parameter 5 not supported for operation rate', narvi: 'rate does not take a parameter; only quantile_over_time does', at: [1, 6] },
  { q: 'sum_over_time(50,{a="b"} | unwrap x [5m])', loki: 'parameter 50 not supported for operation sum_over_time', narvi: 'does not take a parameter' },
  { q: `sum(5, ${R})`, loki: 'unsupported parameter for operation sum(5,', narvi: 'sum does not take a parameter; only topk, bottomk and approx_topk do' },
  { q: `sort by (a) (${R})`, loki: "sort and sort_desc doesn't allow grouping by", narvi: 'grouping not allowed for sort' },
  { q: `sort_desc(${R}) without (a)`, loki: "sort and sort_desc doesn't allow grouping by", narvi: 'grouping not allowed for sort_desc' },
  { q: `sum by (a) (${R}) by (b)`, loki: 'syntax error: unexpected by', narvi: 'give by/without either before or after the parentheses, not both' },
  { q: `${R} by (a)`, loki: 'grouping not allowed for rate aggregation', narvi: 'wrap it in sum by (…) (…) instead' },
  { q: 'avg_over_time({a="b"}[1m])', loki: 'invalid aggregation avg_over_time without unwrap', narvi: 'add | unwrap <label> before the range' },
  { q: 'count_over_time({a="b"} | unwrap x [1m])', loki: 'invalid aggregation count_over_time with unwrap', narvi: 'count_over_time counts log lines' },
  // selectors
  { q: '{a=~".*"}', loki: 'queries require at least one regexp or equality matcher that does not have an empty-compatible value', narvi: 'app=~".+" will' },
  { q: '{}', loki: 'queries require at least one regexp or equality matcher that does not have an empty-compatible value', narvi: 'For instance' },
  { q: '{a="b" |= "x"', loki: 'syntax error: unexpected |=', narvi: 'expecting , or }' },
  { q: '{a=="b"}', loki: 'syntax error: unexpected ==', narvi: 'expecting = or != or =~ or !~' },
  // functions and stray words
  { q: 'foo(1)', loki: 'syntax error: unexpected IDENTIFIER', narvi: 'unknown function "foo"' },
  { q: `topk(5 ${R})`, loki: 'syntax error: unexpected RATE', narvi: 'expecting ,' },
  { q: `${R} json`, loki: 'syntax error: unexpected json', narvi: 'expecting a binary operator or end of input' },
  { q: `${R} rate`, loki: 'syntax error: unexpected IDENTIFIER', narvi: 'expecting a binary operator' },
  { q: `sum(${R}`, loki: 'syntax error: unexpected $end', narvi: '(end of input), expecting ) or a binary operator' },
  { q: '', loki: 'syntax error: unexpected $end', narvi: 'expecting a stream selector', at: [1, 1] },
  { q: 'label_replace(rate({a="b"}[1m]), "d", "", "a", "(")', loki: 'invalid regex in label_replace', narvi: '"(": unterminated group', at: [1, 48] },
  // the lexer
  { q: '{a="b"} |= "x', loki: 'literal not terminated', narvi: 'unterminated string' },
  { q: '{a="b"} |= `x', loki: 'literal not terminated', narvi: 'unterminated raw string' },
  { q: '{a="\\q"}', loki: 'invalid char escape', narvi: 'invalid escape' },
  { q: '{a="b"} @', loki: 'syntax error: unexpected IDENTIFIER', narvi: 'unexpected character "@"', at: [1, 9] },
  { q: '{a="b"} ! "x"', loki: 'syntax error: unexpected IDENTIFIER', narvi: 'did you mean != or !~?' },
];


describe('token names as Loki prints them', () => {
  it('follows the lexer: keywords by text, called functions by token name, the rest IDENTIFIER', () => {
    const tokens = tokenize('rate rate( Sum By (a) ip ip( bytes( duration_seconds( label_replace ( Or unless vector [ : "s" 1 5m 2KB --strict');
    expect(tokens.map((_, i) => tokenLabel(tokens, i))).toEqual([
      'IDENTIFIER', 'RATE', '(', 'SUM', 'by', '(', 'IDENTIFIER', ')', 'IDENTIFIER', 'ip', '(', 'BYTES_CONV', '(', 'DURATION_SECONDS_CONV', '(',
      'label_replace', '(', 'or', 'unless', 'IDENTIFIER', 'RANGE', 'IDENTIFIER', 'STRING', 'NUMBER', 'DURATION', 'BYTES', 'PARSER_FLAG',
      '$end (end of input)',
    ]);
  });
});

describe('parse errors carry Loki 3.7 wording', () => {
  it.each(PARSE_CASES)('$q', ({ q, loki, narvi, at }) => {
    const e = parseErrorOf(() => parseExpr(q));
    expect(e.message).toContain(loki);
    expect(e.message).toContain(narvi);
    expect(e.message).toMatch(/^parse error at line \d+, col \d+: /);
    if (at) expect([e.line, e.col]).toEqual(at);
  });

  it('the set-operator message leads with Loki words, then explains', () => {
    expect(parseErrorOf(() => parseExpr(`1 and ${R}`)).detail).toBe(
      'unexpected literal for left leg of logical/set binary operation (and): 1.000000; set operator and needs a vector on both sides, not a number',
    );
  });

  it('prints literals as Go prints %f', () => {
    const leg = (lit: string) => parseErrorOf(() => parseExpr(`${R} or ${lit}`)).detail.split('; ')[0];
    expect(leg('1e21')).toBe('unexpected literal for right leg of logical/set binary operation (or): 1000000000000000000000.000000');
    expect(leg('0.0000004')).toMatch(/\(or\): 0\.000000$/);
    expect(leg('-0.0000004')).toMatch(/\(or\): -0\.000000$/);
    expect(leg('(1 / 0)')).toMatch(/\(or\): (\+Inf|NaN)$/);
    // exact ties at the seventh decimal round to even, as Go's strconv does
    expect(leg('0.0078125')).toMatch(/\(or\): 0\.007812$/);
    expect(leg('0.0234375')).toMatch(/\(or\): 0\.023438$/);
    expect(leg('-0.0078125')).toMatch(/\(or\): -0\.007812$/);
    expect(leg('2.5')).toMatch(/\(or\): 2\.500000$/);
    expect(leg('0.1 + 0.2')).toMatch(/\(or\): 0\.300000$/);
  });

  it('names a called function in capitals and a bare word as IDENTIFIER', () => {
    expect(parseErrorOf(() => parseExpr(`-count_over_time({a="b"}[1m])`)).detail).toContain('unexpected COUNT_OVER_TIME, expecting NUMBER');
    expect(parseErrorOf(() => parseExpr(`-sum by (a) (${R})`)).detail).toContain('unexpected SUM, expecting NUMBER');
    expect(parseErrorOf(() => parseExpr('-label_replace(vector(1), "a", "", "b", "")')).detail).toContain('unexpected label_replace, expecting NUMBER');
    expect(parseErrorOf(() => parseExpr('-sum')).detail).toContain('unexpected IDENTIFIER, expecting NUMBER');
    expect(parseErrorOf(() => parseExpr('-BOOL')).detail).toContain('unexpected bool, expecting NUMBER');
  });

  it('accepts an empty grouping on sort, as Loki does', () => {
    expect(parseExpr(`sort by () (${R})`)).toEqual(parseExpr(`sort(${R})`));
    expect(parseExpr(`sort_desc(${R}) without ()`)).toEqual(parseExpr(`sort_desc(${R})`));
  });

  it('the tail and series entry points use Loki wording too', () => {
    expect(parseErrorOf(() => parseLogSelector(R)).message).toContain('only log selector is supported: expecting a log query');
    expect(parseErrorOf(() => parseSelector('{a="b"} |= "x"')).message).toContain('only label matchers are supported: a series selector is a bare {…}');
  });
});

// ---------------------------------------------------------------- evaluation errors

function stream(labels: Record<string, string>, n: number): MemStream {
  return { labels, entries: Array.from({ length: n }, (_, i) => ({ ts: sec(1 + i * 0.5), line: 'x' })) };
}

const source = () =>
  new MemorySource([
    stream({ job: 'api', instance: '1', kind: 'req' }, 4),
    stream({ job: 'api', instance: '2', kind: 'req' }, 6),
    stream({ job: 'api', instance: '1', kind: 'err' }, 1),
    stream({ job: 'api', instance: '2', kind: 'err' }, 3),
    stream({ job: 'api', kind: 'limit' }, 10),
  ]);

const count = (kind: string) => `count_over_time({kind="${kind}"}[10s])`;

const EVAL_CASES: Case[] = [
  // the right side holds two series for the match group {job="api"}
  {
    q: `${count('limit')} / on (job) ${count('err')}`,
    loki: 'found duplicate series on the right hand-side;many-to-many matching not allowed: matching labels must be unique on one side',
    narvi: 'The match group {job="api"} has two series on the right hand-side',
  },
  {
    q: `${count('req')} / on (job) group_left ${count('err')}`,
    loki: 'found duplicate series on the right hand-side;many-to-many matching not allowed',
    narvi: '[{instance="1", job="api", kind="err"}, {instance="2", job="api", kind="err"}]',
  },
  // group_right makes the left side the "one" side
  {
    q: `${count('err')} / on (job) group_right ${count('req')}`,
    loki: 'found duplicate series on the left hand-side;many-to-many matching not allowed: matching labels must be unique on one side',
    narvi: 'has two series on the left hand-side of the operation',
  },
  // one series on the right, two on the left: many-to-one needs group_left
  {
    q: `${count('req')} / on (job) ${count('limit')}`,
    loki: 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    narvi: 'many-to-one matching must be explicit',
  },
];

describe('evaluation errors carry Loki 3.7 wording', () => {
  it.each(EVAL_CASES)('$q', async ({ q, loki, narvi }) => {
    const run = instantQuery(parseExpr(q) as SampleExpr, source(), 10);
    const e = await run.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(QueryEvalError);
    expect((e as Error).message).toContain(loki);
    expect((e as Error).message).toContain(narvi);
  });

  it('the same match on one side that is unique evaluates', async () => {
    const r = await instantQuery(parseExpr(`${count('req')} / on (job) group_left ${count('limit')}`) as SampleExpr, source(), 10);
    expect(r.type).toBe('vector');
  });
});
