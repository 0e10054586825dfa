import { describe, expect, it } from 'vitest';
import { parseLogSelector } from '../../../query/parser.js';
import { printLogSelector } from '../../../query/printer.js';
import { blockNeedles } from '../../../query/eval/block-needles.js';
import { run } from './run.js';

/** The lines a query's pipeline keeps, written as LogQL so the parser and the filter are tested together. */
const keep = (query: string, input: string[]) => run(parseLogSelector(query).pipeline, input).map((o) => o.line);
const parseFails = (query: string) => {
  try {
    parseLogSelector(query);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected ${query} to fail`);
};

describe('pattern line filters |> and !>', () => {
  const L = ['foo bar baz', ' bar ', 'bar', 'GET /api 200', 'GET /api 500 slow', '', 'xfoo bar'];

  it('a pattern ending on a literal must reach the end of the line', () => {
    expect(keep('{a="b"} |> "<_> bar"', L)).toEqual(['xfoo bar']);
    expect(keep('{a="b"} |> "<_> baz"', L)).toEqual(['foo bar baz']);
  });

  it('a pattern starting on a literal must start the line', () => {
    expect(keep('{a="b"} |> "foo <_>"', L)).toEqual(['foo bar baz']);
  });

  it('<_> takes a non-empty run of any characters', () => {
    expect(keep('{a="b"} |> "<_> bar <_>"', L)).toEqual(['foo bar baz']);
    expect(keep('{a="b"} |> "<_>bar<_>"', L)).toEqual(['foo bar baz', ' bar ']);
    expect(keep('{a="b"} |> "<_>"', L)).toEqual(L.filter((l) => l !== ''));
  });

  it('literals are found at their first occurrence, and the last capture takes the rest', () => {
    expect(keep('{a="b"} |> "GET <_> <_>"', L)).toEqual(['GET /api 200', 'GET /api 500 slow']);
    expect(keep('{a="b"} |> "GET <_> 500 <_>"', L)).toEqual(['GET /api 500 slow']);
    expect(keep('{a="b"} |> "GET <_> 200"', L)).toEqual(['GET /api 200']);
  });

  it('a pattern without captures is the whole line; the empty pattern matches only empty lines', () => {
    expect(keep('{a="b"} |> "bar"', L)).toEqual(['bar']);
    expect(keep('{a="b"} |> ""', L)).toEqual(['']);
  });

  it('!> keeps the lines that do not match, including empty ones', () => {
    expect(keep('{a="b"} !> "GET <_>"', L)).toEqual(['foo bar baz', ' bar ', 'bar', '', 'xfoo bar']);
  });

  it('or: |> keeps a line matching any pattern, !> drops a line matching any', () => {
    expect(keep('{a="b"} |> "<_> baz" or "GET <_> 200"', L)).toEqual(['foo bar baz', 'GET /api 200']);
    expect(keep('{a="b"} !> "<_> baz" or "GET <_> 200"', L)).toEqual([' bar ', 'bar', 'GET /api 500 slow', '', 'xfoo bar']);
  });

  it('tests the rewritten line after line_format', () => {
    // The stream label app="api" (see run.ts) becomes the line.
    expect(keep('{a="b"} | line_format "{{.app}}" |> "a<_>"', ['x', 'y'])).toEqual(['api', 'api']);
    expect(keep('{a="b"} | line_format "{{.app}}" |> "x<_>"', ['x', 'y'])).toEqual([]);
    expect(keep('{a="b"} | line_format "pre fix" |> "pre <_>"', ['x', 'y'])).toEqual(['pre fix', 'pre fix']);
    expect(keep('{a="b"} | line_format "pre fix" !> "pre <_>"', ['x', 'y'])).toEqual([]);
  });

  it('matches UTF-8 lines by characters', () => {
    expect(keep('{a="b"} |> "<_> wörld ✓"', ['héllo wörld ✓', 'hello world'])).toEqual(['héllo wörld ✓']);
  });

  it('named captures and captures in a row are parse errors with Loki phrases', () => {
    expect(parseFails('{a="b"} |> "<name> foo"')).toContain('named captures are not allowed');
    expect(parseFails('{a="b"} |> "<_> a" or "<x> b"')).toContain('named captures are not allowed');
    expect(parseFails('{a="b"} !> "<_><_>"')).toContain('found consecutive capture');
    expect(parseFails('{a="b"} |> ip("10.0.0.0/8")')).toContain('ip: invalid operation');
  });

  it('prints back as written', () => {
    const q = '{a="b"} |> "<_> a" or "b <_>" !> "<_> c"';
    expect(printLogSelector(parseLogSelector(q))).toBe(q);
  });
});

describe('ip() line filters', () => {
  const L = [
    'client 192.168.1.7 GET /',
    'client 192.168.2.7 GET /',
    'no address here',
    'from 10.0.0.1:8080 to 192.168.1.255',
    'v6 2001:db8::1 connected',
    'ver 1.2.3 build',
    'mapped ::ffff:192.168.1.9 x',
    'ip=192.168.001.5 y',
  ];

  it('|= keeps lines holding an address in a CIDR range, anywhere in the line', () => {
    expect(keep('{a="b"} |= ip("192.168.1.0/24")', L)).toEqual([L[0], L[3]]);
  });

  it('a single address, an a-b range and an IPv6 prefix', () => {
    expect(keep('{a="b"} |= ip("192.168.1.255")', L)).toEqual([L[3]]);
    expect(keep('{a="b"} |= ip("10.0.0.1-10.0.0.9")', L)).toEqual([L[3]]);
    expect(keep('{a="b"} |= ip("2001:db8::/32")', L)).toEqual([L[4]]);
    expect(keep('{a="b"} |= ip("2001:db8::1")', L)).toEqual([L[4]]);
  });

  it('families do not mix: an IPv4-mapped IPv6 address matches only an IPv6 pattern', () => {
    expect(keep('{a="b"} |= ip("::ffff:192.168.1.0/120")', L)).toEqual([L[6]]);
    expect(keep('{a="b"} |= ip("192.168.1.9")', L)).toEqual([]);
  });

  it('text that is not an address never matches (leading zeros, three parts)', () => {
    expect(keep('{a="b"} |= ip("192.168.0.0/16")', L)).toEqual([L[0], L[1], L[3]]);
    expect(keep('{a="b"} |= ip("1.2.3.0/24")', L)).toEqual([]);
  });

  it('candidates are cut as Loki cuts them: a run of address characters is read whole, and skipped whole', () => {
    // '1234.1.1.1': no hint at '1' (no dot within three), but at '2' one starts: 234.1.1.1 is an address.
    // '10.0.0.1.5' and '256.1.1.1' are runs that are not addresses, and nothing inside them is tried again.
    expect(keep('{a="b"} |= ip("0.0.0.0/0")', ['1234.1.1.1', 'a 10.0.0.1.5 b', 'x 255.255.255.255 y', 'x 256.1.1.1', 'port 10.0.0.1:80'])).toEqual([
      '1234.1.1.1',
      'x 255.255.255.255 y',
      'port 10.0.0.1:80',
    ]);
    // An IPv6 candidate is only tried with at least five characters from its start to the end of the line, as in
    // Loki: '::1' needs two more after it.
    expect(keep('{a="b"} |= ip("::/0")', ['at ::1', 'at ::1 ', 'at ::1 x', 'fe80::1%eth0'])).toEqual(['at ::1 x', 'fe80::1%eth0']);
  });

  it('!= keeps every other line, including lines with no address', () => {
    expect(keep('{a="b"} != ip("192.168.1.0/24")', L)).toEqual([L[1], L[2], L[4], L[5], L[6], L[7]]);
  });

  it('or chains mix substrings and ip(), each operand taking the filter match type', () => {
    expect(keep('{a="b"} |= "GET" or ip("10.0.0.0/8")', L)).toEqual([L[0], L[1], L[3]]);
    expect(keep('{a="b"} |= ip("2001:db8::/32") or "ver"', L)).toEqual([L[4], L[5]]);
    expect(keep('{a="b"} != "GET" or ip("10.0.0.0/8")', L)).toEqual([L[2], L[4], L[5], L[6], L[7]]);
  });

  it('an address at the very end of a line is found; one cut by a following dot is not', () => {
    expect(keep('{a="b"} |= ip("10.0.0.0/8")', ['peer 10.1.2.3', 'peer 10.1.2.3.', '10.1.2.3'])).toEqual(['peer 10.1.2.3', '10.1.2.3']);
  });

  it('tests the rewritten line after line_format', () => {
    expect(keep('{a="b"} | line_format "peer 10.1.2.3" |= ip("10.0.0.0/8")', ['x'])).toEqual(['peer 10.1.2.3']);
    expect(keep('{a="b"} | line_format "peer 10.1.2.3" != ip("10.0.0.0/8")', ['x'])).toEqual([]);
  });

  it('only |= and != take ip(); a bad pattern fails at parse time', () => {
    expect(parseFails('{a="b"} |~ ip("10.0.0.0/8")')).toContain('ip: invalid operation');
    expect(parseFails('{a="b"} !~ "x" or ip("10.0.0.0/8")')).toContain('ip: invalid operation');
    expect(parseFails('{a="b"} |= ip("300.1.1.1")')).toContain('ip: invalid pattern');
    expect(parseFails('{a="b"} |= ip("10.0.0.9-10.0.0.1")')).toContain('ip: invalid pattern');
    expect(parseFails('{a="b"} |= ip("10.0.0.0/33")')).toContain('ip: invalid pattern');
    expect(parseFails('{a="b"} |= ip("10.0.0.1-2001:db8::1")')).toContain('ip: invalid pattern');
    expect(parseFails('{a="b"} |= ip("")')).toContain('ip: invalid pattern');
  });

  it('prints back as written', () => {
    const q = '{a="b"} |= "x" or ip("10.0.0.0/8") != ip("::1")';
    expect(printLogSelector(parseLogSelector(q))).toBe(q);
  });
});

describe('block needles with the new filter kinds', () => {
  const needles = (q: string) => blockNeedles(parseLogSelector(q).pipeline)?.map((b) => b.toString());

  it('ip(), pattern and negative filters give no needle; a plain |= still does', () => {
    expect(needles('{a="b"} |= ip("10.0.0.1")')).toBeUndefined();
    expect(needles('{a="b"} |> "<_> error <_>"')).toBeUndefined();
    expect(needles('{a="b"} !> "<_> error <_>"')).toBeUndefined();
    expect(needles('{a="b"} != ip("10.0.0.1") |= "GET"')).toEqual(['GET']);
    expect(needles('{a="b"} |> "<_> x" |= "GET"')).toEqual(['GET']);
  });
});
