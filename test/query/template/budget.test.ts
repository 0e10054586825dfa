import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateSizeError, type TemplateInput } from '../../../query/template/template.js';

function input(labels: Record<string, string>, line = 'the line'): TemplateInput {
  return { line, ts: 0n, label: (n) => labels[n], labels: () => Object.entries(labels) };
}

/** Runs `src` with a budget of `max` characters; returns the output or the size error's message. */
function run(src: string, max: number, labels: Record<string, string> = {}, line?: string): string {
  try {
    return compileTemplate(src, max).execute(input(labels, line));
  } catch (e) {
    if (e instanceof TemplateSizeError) return `ERR ${e.message}`;
    throw e;
  }
}

describe('the template byte budget', () => {
  // Each of these would allocate hundreds of MB (or throw V8's "Invalid string length") without the budget.
  const bombs: [string, string][] = [
    ['{{ repeat 400000000 "x" }}', 'repeat'],
    ['{{ printf "%400000000d" 7 }}', 'printf'],
    ['{{ printf "%-400000000s" "x" }}', 'printf'],
    ['{{ printf "%*d" 400000000 7 }}', 'printf'],
    ['{{ alignLeft 400000000 "x" }}', 'alignLeft'],
    ['{{ alignRight 400000000 "x" }}', 'alignRight'],
    ['{{ indent 400000000 "x" }}', 'indent'],
    ['{{ nindent 1000 (repeat 5000 "\\n") }}', 'nindent'],
    ['{{ replace "" "yyyyyyyyyy" (repeat 200000 "x") }}', 'replace'],
    ['{{ Replace (repeat 200000 "x") "x" "yyyyyyyyyy" -1 }}', 'Replace'],
    ['{{ regexReplaceAll "" (repeat 200000 "x") "yyyyyyyyyy" }}', 'regexReplaceAll'],
    ['{{ regexReplaceAllLiteral "x" (repeat 200000 "x") "yyyyyyyyyy" }}', 'regexReplaceAllLiteral'],
    ['{{ repeat 600 (repeat 600 (repeat 600 "x")) }}', 'repeat'],
  ];
  for (const [src, fn] of bombs) {
    it(`${src} fails fast, naming ${fn} and the limit`, () => {
      const t = performance.now();
      const out = run(src, 1_000_000);
      expect(out).toMatch(/^ERR template output too large: /);
      expect(out).toContain(fn);
      expect(out).toContain('over the limit of 1000000 (limits.max_template_output_size)');
      expect(performance.now() - t).toBeLessThan(2000);
    });
  }

  it('counts every string an execution builds, not just the last', () => {
    // Three 400-character pieces (1 200) and the output they make (1 200) fit in 2 400, not in 1 100.
    const src = '{{ repeat 400 "a" }}{{ repeat 400 "b" }}{{ repeat 400 "c" }}';
    expect(run(src, 2_400)).toHaveLength(1200);
    expect(run(src, 1_100)).toMatch(/^ERR/);
  });

  it('plain label templates are bounded too', () => {
    const big = 'x'.repeat(600);
    expect(run('{{.a}}{{.a}}', 1_000, { a: big })).toMatch(/^ERR .*the output/);
    expect(run('{{.a}}', 1_000, { a: big })).toBe(big);
  });

  it('the line itself is not charged twice: a line near the budget can still be printed', () => {
    const line = 'l'.repeat(900);
    expect(run('{{ __line__ }}', 1_000, {}, line)).toBe(line);
    expect(run('{{ trim __line__ }}', 1_000, {}, line)).toBe(line);
  });

  it('each execution starts with a fresh budget', () => {
    // 600 for repeat's result, 600 for the output.
    const t = compileTemplate('{{ repeat 600 "x" }}', 1_200);
    for (let i = 0; i < 3; i++) expect(t.execute(input({}))).toHaveLength(600);
  });

  it('the default budget is generous for real templates', () => {
    expect(compileTemplate('{{ repeat 100000 "ab" }}').execute(input({}))).toHaveLength(200_000);
  });
});
