/**
 * Every recursive walk over query text — the LogQL parser, the regex parser, the template parser — refuses input
 * nested past its limit before it can overflow the stack: a clean error naming the limit, never a RangeError. Input
 * exactly at the limit still parses (and the tree it builds can still be walked).
 */
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../query/parse-error.js';
import { MAX_QUERY_DEPTH } from '../../query/parse/cursor.js';
import { checkRegex, RegexCheckError } from '../../query/parse/regex-check.js';
import { parseExpr } from '../../query/parser.js';
import { printExpr } from '../../query/printer.js';
import { compileRegex, RegexSyntaxError } from '../../query/regex.js';
import { MAX_REGEX_NESTING } from '../../query/regex-syntax.js';
import { MAX_TEMPLATE_DEPTH, parseTemplate, TemplateParseError } from '../../query/template/parser.js';
import { compileTemplate } from '../../query/template/template.js';

const SEL = '{app="a"}';
const RANGE = `count_over_time(${SEL}[1m])`;

/** Builders of a query nested `n` deep, one per way LogQL nests. */
const LOGQL_NESTINGS: Record<string, (n: number) => string> = {
  'parentheses around a metric query': (n) => '('.repeat(n - 1) + RANGE + ')'.repeat(n - 1),
  'parentheses around a log query': (n) => '('.repeat(n - 1) + SEL + ')'.repeat(n - 1),
  'a chain of binary operators': (n) => RANGE + ' + 1'.repeat(n - 1),
  'right-associative ^': (n) => '2' + ' ^ 2'.repeat(n - 1),
  'aggregations around aggregations': (n) => 'sum('.repeat(n - 1) + RANGE + ')'.repeat(n - 1),
  'an and-chain of label filters': (n) => `${SEL} | a="1"` + ' and a="1"'.repeat(n - 1),
  'an or-chain of label filters': (n) => `${SEL} | a="1"` + ' or a="1"'.repeat(n - 1),
  'a comma-chain of label filters': (n) => `${SEL} | a="1"` + ', a="1"'.repeat(n - 1),
  'parentheses around a label filter': (n) => `${SEL} | ` + '('.repeat(n - 1) + 'a="1"' + ')'.repeat(n - 1),
  'parentheses inside a range aggregation': (n) => 'count_over_time(' + '('.repeat(n - 1) + SEL + ')'.repeat(n - 1) + '[1m])',
};

describe(`LogQL nesting (limit ${MAX_QUERY_DEPTH})`, () => {
  for (const [what, build] of Object.entries(LOGQL_NESTINGS)) {
    it(`${what}: parses and prints at the limit, refuses one past it and 100 000 deep`, () => {
      const e = parseExpr(build(MAX_QUERY_DEPTH - 1));
      expect(typeof printExpr(e)).toBe('string');
      for (const n of [MAX_QUERY_DEPTH + 2, 100_000]) {
        let err: unknown;
        try {
          parseExpr(build(n));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ParseError);
        expect((err as Error).message).toMatch(`query nests too deeply: more than ${MAX_QUERY_DEPTH} levels`);
      }
    });
  }

  it('counts depth across kinds: a chain inside aggregations inside parentheses adds up', () => {
    const third = Math.floor(MAX_QUERY_DEPTH / 3);
    const q = (chain: number) => '('.repeat(third) + 'sum('.repeat(third) + RANGE + ' + 1'.repeat(chain) + ')'.repeat(third) + ')'.repeat(third);
    expect(() => parseExpr(q(third - 10))).not.toThrow();
    expect(() => parseExpr(q(3 * third))).toThrow(/nests too deeply/);
  });

  it('a long but flat pipeline is not nesting', () => {
    expect(() => parseExpr(SEL + ' | a="1"'.repeat(10_000))).not.toThrow();
  });
});

describe(`regex nesting (limit ${MAX_REGEX_NESTING})`, () => {
  const nested = (n: number, open = '(') => open.repeat(n) + 'a' + ')'.repeat(n);

  it('both regex parsers accept the limit and refuse past it with the same reason', () => {
    for (const open of ['(', '(?:', '(?i:']) {
      expect(() => checkRegex(nested(MAX_REGEX_NESTING, open))).not.toThrow();
      expect(compileRegex(nested(MAX_REGEX_NESTING, open), { anchored: false }).test('a')).toBe(true);
      for (const n of [MAX_REGEX_NESTING + 1, 10_000]) {
        expect(() => checkRegex(nested(n, open))).toThrow(RegexCheckError);
        expect(() => checkRegex(nested(n, open))).toThrow(`more than ${MAX_REGEX_NESTING} nested groups`);
        expect(() => compileRegex(nested(n, open), { anchored: true })).toThrow(RegexSyntaxError);
      }
    }
  });

  it('flag-only groups like (?i) open nothing and do not count', () => {
    expect(() => checkRegex('(?i)'.repeat(5000) + nested(MAX_REGEX_NESTING))).not.toThrow();
  });

  it('a deep regex in any place of a query is a parse error naming the limit', () => {
    const re = nested(2000);
    for (const q of [`{app=~"${re}"}`, `${SEL} |~ "${re}"`, `${SEL} | a=~"${re}"`, `${SEL} | regexp "${nested(2000).replace('a', '(?P<x>a)')}"`, `${SEL} | drop a=~"${re}"`]) {
      expect(() => parseExpr(q), q.slice(0, 40)).toThrow(/parse error at line 1, col \d+: (error parsing regexp: )?invalid regex "\(+…" \(\d+ characters\): expression nests too deeply/);
    }
    // label_replace's regex errors carry Loki's "invalid regex in label_replace" wording.
    expect(() => parseExpr(`label_replace(${RANGE}, "d", "$1", "app", "${re}")`)).toThrow(
      /parse error at line 1, col \d+: invalid regex in label_replace: "\(+…" \(\d+ characters\): expression nests too deeply/,
    );
  });

  it('what the engine would refuse is refused at parse time, where it is a 400', () => {
    expect(() => parseExpr(`{app=~"\\\\C"}`)).toThrow(ParseError);
    expect(() => parseExpr(`{app=~"a{1001}"}`)).toThrow(ParseError);
    // Line anchors are fine in an unanchored line filter but not in a fully anchored matcher.
    expect(() => parseExpr(`${SEL} |~ "(?m)^a$"`)).not.toThrow();
    expect(() => parseExpr(`{app=~"(?m)^a$"}`)).toThrow(/cannot be combined with text anchors/);
    expect(() => parseExpr(`${SEL} | a=~"(?m)^a$"`)).toThrow(ParseError);
  });
});

describe(`template nesting (limit ${MAX_TEMPLATE_DEPTH})`, () => {
  const ifs = (n: number) => '{{if true}}'.repeat(n) + 'x' + '{{end}}'.repeat(n);
  const elseIfs = (n: number) => '{{if false}}' + '{{else if false}}'.repeat(n - 1) + '{{else}}y{{end}}';
  const parens = (n: number) => '{{' + '(upper '.repeat(n) + '.a' + ')'.repeat(n) + '}}';

  it('parses and runs at the limit', () => {
    const input = { line: 'l', ts: 0n, label: (n: string) => (n === 'a' ? 'v' : undefined), labels: () => [['a', 'v']] as [string, string][] };
    expect(compileTemplate(ifs(MAX_TEMPLATE_DEPTH)).execute(input)).toBe('x');
    expect(compileTemplate(elseIfs(MAX_TEMPLATE_DEPTH)).execute(input)).toBe('y');
    expect(compileTemplate(parens(MAX_TEMPLATE_DEPTH)).execute(input)).toBe('V');
  });

  it('refuses past the limit, and 20 000 deep, with a TemplateParseError naming it', () => {
    for (const build of [ifs, elseIfs, parens]) {
      for (const n of [MAX_TEMPLATE_DEPTH + 1, 20_000]) {
        expect(() => parseTemplate(build(n))).toThrow(TemplateParseError);
        expect(() => parseTemplate(build(n))).toThrow(`template nests too deeply: more than ${MAX_TEMPLATE_DEPTH} levels`);
      }
    }
  });

  it('line_format and label_format templates that cannot compile are parse errors at their string', () => {
    const cases: [string, RegExp][] = [
      [`${SEL} | line_format "{{.foo"`, /col 25: invalid line template: invalid line_format template "\{\{\.foo": template: 1:1: unclosed action/],
      [`${SEL} | line_format "{{ nosuch }}"`, /function "nosuch" not defined/],
      [`${SEL} | label_format x="{{end}}"`, /col 28: invalid template for label 'x': invalid label_format x template "\{\{end\}\}": template: 1:1: unexpected \{\{end\}\}/],
      [`${SEL} | line_format "{{ printf }}"`, /wrong number of args for printf/],
      [`${SEL} | line_format "${ifs(2000)}"`, /invalid line_format template "(\{\{if true\}\})+[^"]*…" \(\d+ characters\): template: 1:\d+: template nests too deeply/],
    ];
    for (const [q, want] of cases) expect(() => parseExpr(q)).toThrow(want);
  });
});

describe('other engine-time failures moved to parse time', () => {
  it('a json path that cannot parse is a parse error', () => {
    expect(() => parseExpr(`${SEL} | json x="[[["`)).toThrow(/parse error at line 1, col 20: cannot parse expression: invalid json expression "\[\[\[" at offset 1/);
    expect(() => parseExpr(`${SEL} | json x="a.b[0]", y="[\\"k\\"]"`)).not.toThrow();
  });

  it('a duration past int64 nanoseconds is a parse error, as in Go', () => {
    expect(() => parseExpr(`count_over_time(${SEL}[1m] offset 100000000h)`)).toThrow(/parse error at line 1, col 38: invalid duration "100000000h": out of range/);
    expect(() => parseExpr(`count_over_time(${SEL}[100000000h])`)).toThrow(ParseError);
    expect(() => parseExpr(`${SEL} | d > 100000000h`)).toThrow(ParseError);
    expect(() => parseExpr(`count_over_time(${SEL}[1m] offset 2562047h)`)).not.toThrow();
  });
});
