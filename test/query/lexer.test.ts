import { describe, expect, it } from 'vitest';
import { describeToken, tokenize, type Token } from '../../query/lexer.js';
import { ParseError } from '../../query/parse-error.js';

/** Tokens without the EOF marker, reduced to type and text. */
function kinds(q: string): [string, string][] {
  return tokenize(q)
    .filter((t) => t.type !== 'eof')
    .map((t) => [t.type, t.text]);
}

function only(q: string): Token {
  const toks = tokenize(q);
  expect(toks).toHaveLength(2);
  return toks[0]!;
}

function lexError(q: string): ParseError {
  try {
    tokenize(q);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error(`expected ${JSON.stringify(q)} to fail`);
}

describe('tokenize', () => {
  it('splits a selector with a pipeline into tokens', () => {
    expect(kinds('{app="api", env=~"prod.*"} |= "err" | json')).toEqual([
      ['op', '{'], ['ident', 'app'], ['op', '='], ['string', '"api"'], ['op', ','], ['ident', 'env'], ['op', '=~'],
      ['string', '"prod.*"'], ['op', '}'], ['op', '|='], ['string', '"err"'], ['op', '|'], ['ident', 'json'],
    ]);
  });

  it('recognises every operator, longest first', () => {
    expect(kinds('|= |~ |> != !~ !> == =~ >= <= | = > < + - * / % ^ ( ) [ ] { } , :').map((k) => k[1])).toEqual([
      '|=', '|~', '|>', '!=', '!~', '!>', '==', '=~', '>=', '<=', '|', '=', '>', '<', '+', '-', '*', '/', '%', '^',
      '(', ')', '[', ']', '{', '}', ',', ':',
    ]);
  });

  it('needs no spaces between tokens', () => {
    expect(kinds('{a="b"}|="x"|json|x>=5').map((k) => k[1])).toEqual(['{', 'a', '=', '"b"', '}', '|=', '"x"', '|', 'json', '|', 'x', '>=', '5']);
  });

  it('records offsets of each token', () => {
    const toks = tokenize('  sum (x)');
    expect(toks.map((t) => [t.pos, t.end])).toEqual([[2, 5], [6, 7], [7, 8], [8, 9], [9, 9]]);
  });

  it('ends with an eof token at the end of the text', () => {
    const toks = tokenize('a ');
    expect(toks[1]).toEqual({ type: 'eof', text: '', pos: 2, end: 2 });
  });

  it('treats keywords as identifiers (the parser decides by position)', () => {
    expect(kinds('by without offset or and unless bool on ignoring json unwrap')).toEqual(
      'by without offset or and unless bool on ignoring json unwrap'.split(' ').map((w) => ['ident', w]),
    );
  });

  it('lexes identifiers with underscores and digits', () => {
    expect(only('__error__').text).toBe('__error__');
    expect(only('_a9').text).toBe('_a9');
    expect(kinds('count_over_time')).toEqual([['ident', 'count_over_time']]);
  });

  it('skips # comments to the end of the line', () => {
    expect(kinds('sum # a comment with "quotes" and {braces}\n(x) # trailing')).toEqual([['ident', 'sum'], ['op', '('], ['ident', 'x'], ['op', ')']]);
    expect(kinds('# only a comment')).toEqual([]);
  });

  it('does not treat # inside a string as a comment', () => {
    expect(only('"a # b"').value).toBe('a # b');
  });

  it('lexes parser flags', () => {
    expect(kinds('logfmt --strict --keep-empty')).toEqual([['ident', 'logfmt'], ['flag', '--strict'], ['flag', '--keep-empty']]);
  });

  it('keeps a double minus before a number as two operators', () => {
    expect(kinds('1--1').map((k) => k[1])).toEqual(['1', '-', '-', '1']);
  });
});

describe('strings', () => {
  it('decodes Go escapes in double-quoted strings', () => {
    expect(only(String.raw`"a\"b\\c\nd\te\rf"`).value).toBe('a"b\\c\nd\te\rf');
    expect(only(String.raw`"\a\b\f\v"`).value).toBe('\x07\b\f\v');
    expect(only(String.raw`"\x41\101\u00e9\U0001F600"`).value).toBe('AAé😀');
  });

  it('treats \\x and octal escapes as UTF-8 bytes, as Go does', () => {
    expect(only(String.raw`"\xc3\xa9"`).value).toBe('é');
    expect(only(String.raw`"\303\251"`).value).toBe('é');
  });

  it('keeps non-ASCII characters as they are', () => {
    expect(only('"héllo ☃ 😀"').value).toBe('héllo ☃ 😀');
  });

  it('takes backtick strings raw, across lines', () => {
    expect(only('`\\d+ "x"\nline2`').value).toBe('\\d+ "x"\nline2');
  });

  it('drops carriage returns from raw strings', () => {
    expect(only('`a\r\nb`').value).toBe('a\nb');
  });

  it('decodes an empty string', () => {
    expect(only('""').value).toBe('');
    expect(only('``').value).toBe('');
  });

  it('rejects an unterminated double-quoted string at its opening quote', () => {
    const e = lexError('{a="b}');
    expect([e.line, e.col]).toEqual([1, 4]);
    expect(e.message).toContain('unterminated string');
  });

  it('rejects a newline inside a double-quoted string', () => {
    const e = lexError('{a="b"}\n  |= "abc\ndef"');
    expect([e.line, e.col]).toEqual([2, 6]);
    expect(e.message).toBe('parse error at line 2, col 6: literal not terminated: unterminated string: a double-quoted string must close with " on the same line (use backticks for multi-line strings)');
  });

  it('rejects an unterminated raw string', () => {
    const e = lexError('{a="b"} |~ `abc');
    expect([e.line, e.col]).toEqual([1, 12]);
    expect(e.message).toContain('unterminated raw string');
  });

  it('rejects an unknown escape at the backslash and suggests backticks', () => {
    const e = lexError('{a="b"} |~ "x\\d+"');
    expect([e.line, e.col]).toEqual([1, 14]);
    expect(e.message).toContain('invalid escape "\\d"');
    expect(e.message).toContain('backticks');
  });

  it('rejects short hex, unicode and octal escapes', () => {
    expect(lexError('"\\x4"').message).toContain('\\x needs exactly 2 hex digits');
    expect(lexError('"\\u12"').message).toContain('\\u needs exactly 4 hex digits');
    expect(lexError('"\\12"').message).toContain('octal escape needs exactly 3 digits');
    expect(lexError('"\\400"').message).toContain('octal escape above \\377');
    expect(lexError('"\\ud800"').message).toContain('not a valid Unicode code point');
  });

  it("rejects \\' in a double-quoted string, as Go does", () => {
    expect(lexError(`"it\\'s"`).col).toBe(4);
  });
});

describe('numbers, durations and sizes', () => {
  it.each([
    ['42', 42],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['1.', 1],
    ['1e3', 1000],
    ['1E3', 1000],
    ['1.5e-3', 0.0015],
    ['2e+2', 200],
    ['0x1Fp0', 31],
    ['0x1.8p3', 12],
    ['1_000', 1000],
    ['007', 7],
  ])('%s is the number %d', (text, value) => {
    const t = only(text);
    expect(t.type).toBe('number');
    expect(t.num).toBe(value);
  });

  it.each([
    ['5m', 300_000_000_000n],
    ['1h30m', 5_400_000_000_000n],
    ['250ms', 250_000_000n],
    ['1.5s', 1_500_000_000n],
    ['10us', 10_000n],
    ['10µs', 10_000n],
    ['10μs', 10_000n],
    ['7ns', 7n],
    ['1d', 86_400_000_000_000n],
    ['2w', 1_209_600_000_000_000n],
    ['1y', 31_536_000_000_000_000n],
    ['1h0m5s', 3_605_000_000_000n],
  ])('%s is a duration', (text, ns) => {
    const t = only(text);
    expect(t.type).toBe('duration');
    expect(t.dur).toBe(ns);
  });

  it.each([
    ['20MB', 20e6],
    ['20mb', 20e6],
    ['1.5KiB', 1536],
    ['1KB', 1000],
    ['1kib', 1024],
    ['3GiB', 3 * 2 ** 30],
    ['10B', 10],
    ['10b', 10],
    ['1M', 1e6],
    ['2Ki', 2048],
    ['1TB', 1e12],
    ['1PiB', 2 ** 50],
  ])('%s is a size in bytes', (text, bytes) => {
    const t = only(text);
    expect(t.type).toBe('bytes');
    expect(t.num).toBe(bytes);
  });

  it('reads 1m as a minute, not a megabyte', () => {
    expect(only('1m').type).toBe('duration');
  });

  it('rejects a number with an unknown suffix, naming the units', () => {
    const e = lexError('count_over_time({a="b"}[5x])');
    expect([e.line, e.col]).toEqual([1, 25]);
    expect(e.message).toContain('invalid number, duration or size "5x"');
    expect(e.message).toContain('ns, us, ms, s, m, h, d, w, y');
  });

  it('rejects a malformed exponent', () => {
    expect(lexError('1e3e').message).toContain('"1e3e"');
  });
});

describe('lexer errors', () => {
  it('rejects an unknown character with its position', () => {
    const e = lexError('{a="b"} |= "x" @');
    expect(e).toMatchObject({ line: 1, col: 16 });
    expect(e.message).toBe('parse error at line 1, col 16: syntax error: unexpected IDENTIFIER: unexpected character "@"');
  });

  it('suggests != or !~ for a lone !', () => {
    expect(lexError('{a!"b"}').message).toContain('did you mean != or !~');
  });

  it('counts lines and columns after comments and multi-line raw strings', () => {
    const e = lexError('# first\n{a=`x\ny`} # c\n  $');
    expect([e.line, e.col]).toEqual([4, 3]);
  });

  it('counts columns in characters, not UTF-16 units', () => {
    const e = lexError('{a="😀😀"} $');
    expect(e.col).toBe(10);
  });

  it('carries the detail without the position prefix', () => {
    const e = lexError('~');
    expect(e.detail).toBe('syntax error: unexpected IDENTIFIER: unexpected character "~"');
    expect(e.name).toBe('ParseError');
  });
});

describe('describeToken', () => {
  it('names token kinds as Loki does', () => {
    const names = tokenize('a "s" 1 5m 1KB --strict |= ').map(describeToken);
    expect(names).toEqual(['IDENTIFIER', 'STRING', 'NUMBER', 'DURATION', 'BYTES', 'PARSER_FLAG', '|=', '$end (end of input)']);
  });
});
