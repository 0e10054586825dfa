import { describe, expect, it } from 'vitest';
import { compileMatcher, compileRegex, regexCacheBytes, regexLiterals, translateRegex } from '../../query/regex.js';

const un = (src: string) => compileRegex(src, { anchored: false });
const an = (src: string) => compileRegex(src, { anchored: true });

describe('RE2 translation', () => {
  it('maps (?P<name>) and (?<name>) to named groups', () => {
    const m = un('(?P<method>[A-Z]+) (?<path>/\\S*)').exec('GET /a/b HTTP');
    expect(m?.groups).toEqual({ method: 'GET', path: '/a/b' });
    expect(translateRegex('(?P<a>x)(y)', { anchored: false }).groupNames).toEqual([undefined, 'a', undefined]);
  });

  it('applies (?i) by expanding case, including RE2 folds like the Kelvin sign', () => {
    expect(un('(?i)error').test('an ERROR here')).toBe(true);
    expect(un('(?i)error').test('an eror here')).toBe(false);
    expect(an('(?i)k').test('\u212a')).toBe(true);
    expect(an('(?i)[a-c]+').test('AbC')).toBe(true);
    // Without the flag case matters.
    expect(un('error').test('ERROR')).toBe(false);
    // The emitted regex uses no i/u flag, so V8's linear engine can take it over.
    expect(translateRegex('(?i)abc', { anchored: false }).flags).toBe('');
  });

  it('scopes flags to groups and supports clearing them', () => {
    expect(an('a(?i:b)c').test('aBc')).toBe(true);
    expect(an('a(?i:b)c').test('aBC')).toBe(false);
    expect(an('(?i)a(?-i)b').test('Ab')).toBe(true);
    expect(an('(?i)a(?-i)b').test('AB')).toBe(false);
  });

  it('treats . as not matching newline in line filters, but matching it in anchored matchers', () => {
    expect(un('a.b').test('a\nb')).toBe(false);
    expect(un('(?s)a.b').test('a\nb')).toBe(true);
    expect(an('a.b').test('a\nb')).toBe(true);
    expect(un('a.b').test('a\rb')).toBe(true); // RE2's . matches \r, unlike JavaScript's
  });

  it('supports (?m) line anchors and \\A \\z text anchors', () => {
    expect(un('(?m)^b$').test('a\nb\nc')).toBe(true);
    expect(un('^b$').test('a\nb\nc')).toBe(false);
    expect(un('\\Afoo').test('foo bar')).toBe(true);
    expect(un('\\Afoo').test('x foo')).toBe(false);
    expect(un('bar\\z').test('foo bar')).toBe(true);
    expect(un('bar\\z').test('bar\n')).toBe(false);
  });

  it('supports (?U) by swapping greediness', () => {
    expect(un('(?U)a+').exec('aaa')?.[0]).toBe('a');
    expect(un('(?U)a+?').exec('aaa')?.[0]).toBe('aaa');
  });

  it('translates POSIX classes, \\Q…\\E quoting, Perl classes and escapes', () => {
    expect(an('[[:alpha:]]+[[:digit:]]').test('abc1')).toBe(true);
    expect(an('[[:^space:]]+').test('a b')).toBe(false);
    expect(an('\\Qa.b*c\\E').test('a.b*c')).toBe(true);
    expect(an('\\Qa.b*c\\E').test('axbbc')).toBe(false);
    expect(an('\\s').test('\u00a0')).toBe(false); // RE2's \s is ASCII only
    expect(an('\\x41\\x{42}\\101').test('ABA')).toBe(true);
    expect(an('a{2}\\{').test('aa{')).toBe(true);
    expect(an('x{').test('x{')).toBe(true); // a { that starts no repetition is literal in RE2
    expect(an('\\pL+').test('héllo')).toBe(true);
    expect(an('\\p{Greek}+').test('αβγ')).toBe(true);
    expect(an('\\p{Greek}+').test('abc')).toBe(false);
  });

  it('matches characters outside the BMP in classes and literals', () => {
    expect(an('[😀-😂]').test('😁')).toBe(true);
    expect(an('x[^😀]y').test('x😀y')).toBe(false);
    expect(an('x[^😀]+y').test('x😁y')).toBe(true);
    expect(an('😀+').test('😀😀')).toBe(true);
  });

  it('anchors selectors and matchers fully', () => {
    expect(an('foo|bar').test('foobar')).toBe(false);
    expect(an('foo|bar').test('bar')).toBe(true);
    expect(un('foo|bar').test('xbarx')).toBe(true);
  });

  it('rejects backreferences and lookarounds with the RE2 explanation', () => {
    const msg = 'is not supported: LogQL regexes use RE2 syntax, which has no backreferences/lookarounds';
    for (const src of ['(a)\\1', '(?=x)', '(?!x)', '(?<=x)', '(?<!x)', '(?<n>a)\\k<n>', '(?P=n)']) {
      expect(() => un(src), src).toThrow(msg);
    }
  });

  it('rejects what RE2 rejects, naming the problem', () => {
    expect(() => un('a**')).toThrow(/nested repetition/);
    expect(() => un('*a')).toThrow(/missing argument to repetition/);
    expect(() => un('(?x)a')).toThrow(/unknown flag x/);
    expect(() => un('[z-a]')).toThrow(/range end before start/);
    expect(() => un('(a')).toThrow(/missing \)/);
    expect(() => un('a)')).toThrow(/unexpected \)/);
    expect(() => un('[a')).toThrow(/missing \]/);
    expect(() => un('\\8')).toThrow(/backreference/);
    expect(() => un('\\y')).toThrow(/invalid escape sequence \\y/);
    expect(() => un('a{1001}')).toThrow(/invalid repeat count/);
    expect(() => un('(?P<a>x)(?P<a>y)')).toThrow(/duplicate capture group name "a"/);
    expect(() => un('\\p{Klingon}')).toThrow(/not a Unicode category or script/);
  });

  it('runs a catastrophic pattern in linear time instead of hanging', () => {
    // Backtracking would take minutes here; V8 falls back to its linear engine because of the process flag.
    expect(un('(a+)+$').test('a'.repeat(40) + 'b')).toBe(false);
    expect(un('(?i)(a+)+$').test('A'.repeat(40) + 'b')).toBe(false);
  });
});

describe('regex literals for prefilters', () => {
  it('recognises plain literal alternations as exact', () => {
    expect(regexLiterals('foo|bar').exact).toEqual({ values: ['foo', 'bar'], fold: 'no' });
    expect(regexLiterals('(?i)error').exact).toEqual({ values: ['error'], fold: 'yes' });
    expect(regexLiterals('[Ee]rror').exact?.values).toEqual(['Error', 'error']);
    expect(regexLiterals('^foo').exact).toBeNull();
  });

  it('finds a literal every match must contain', () => {
    expect(regexLiterals('level=(error|warn) .*took').required?.values).toEqual(['level=error ', 'level=warn ']);
    expect(regexLiterals('\\d+ms timeout').required?.values).toEqual(['ms timeout']);
    expect(regexLiterals('a*').required).toBeNull();
    expect(regexLiterals('x|\\d').required).toBeNull();
  });
});

describe('compileMatcher', () => {
  it('implements the four operators over anchored regexes', () => {
    expect(compileMatcher({ name: 'a', op: '=', value: 'x' })('x')).toBe(true);
    expect(compileMatcher({ name: 'a', op: '!=', value: 'x' })('x')).toBe(false);
    expect(compileMatcher({ name: 'a', op: '=~', value: 'x|y' })('y')).toBe(true);
    expect(compileMatcher({ name: 'a', op: '=~', value: 'x|y' })('xy')).toBe(false);
    expect(compileMatcher({ name: 'a', op: '=~', value: 'ap.*' })('api')).toBe(true);
    expect(compileMatcher({ name: 'a', op: '!~', value: 'ap.*' })('api')).toBe(false);
    expect(compileMatcher({ name: 'a', op: '=~', value: '.*' })('')).toBe(true);
    expect(compileMatcher({ name: 'a', op: '=~', value: '.+' })('')).toBe(false);
    expect(compileMatcher({ name: 'a', op: '=~', value: '(?i)info' })('INFO')).toBe(true);
  });
});

describe('counted repetitions and V8 linear-time fallback', () => {
  it('a matcher with a repetition beyond the fallback engine limit still answers quickly', () => {
    // Emitted with captures, `(.*a){25}!` on 300 'a's backtracks for hours; spelled out, the fallback takes it.
    const m = compileMatcher({ name: 'x', op: '=~', value: '(.*a){25}!' });
    const t = performance.now();
    expect(m('a'.repeat(2048))).toBe(false);
    expect(m('a'.repeat(30) + '!')).toBe(true);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('spelled-out repetitions match exactly what the counted form matches', () => {
    for (const [src, yes, no] of [
      ['^(?:ab){17,19}$', ['ab'.repeat(17), 'ab'.repeat(19)], ['ab'.repeat(16), 'ab'.repeat(20)]],
      ['^(?:ab){18,}$', ['ab'.repeat(18), 'ab'.repeat(40)], ['ab'.repeat(17)]],
      ['^x{20}$', ['x'.repeat(20)], ['x'.repeat(19), 'x'.repeat(21)]],
      ['^(a|b){0,17}?c$', ['c', 'ab'.repeat(8) + 'ac'], ['ab'.repeat(9) + 'c']],
    ] as [string, string[], string[]][]) {
      const re = compileRegex(src, { anchored: false, captures: false });
      expect(re.source).not.toMatch(/\{1[7-9]|\{20/);
      for (const s of yes) expect(re.test(s), `${src} ~ ${s}`).toBe(true);
      for (const s of no) expect(re.test(s), `${src} !~ ${s}`).toBe(false);
    }
  });

  it('keeps captures (and the counted form) where a stage reads groups', () => {
    expect(compileRegex('(a){20}', { anchored: false }).source).toBe('(a){20}');
  });
});

describe('translation cache', () => {
  it('stays bounded by bytes when every query brings a new large pattern', () => {
    let peak = 0;
    for (let i = 0; i < 300; i++) {
      // 60 KB patterns, each distinct: 500 of them would be 60 MB of sources alone.
      const re = compileRegex(`x${i}` + 'abcdefghij'.repeat(6_000), { anchored: false });
      expect(re.test(`x${i}` + 'abcdefghij'.repeat(6_000))).toBe(true);
      peak = Math.max(peak, regexCacheBytes());
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});
