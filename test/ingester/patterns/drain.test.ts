import { describe, expect, it } from 'vitest';
import { Drain, DRAIN_DEFAULTS, MAX_CANDIDATES, PARAM } from '../../../src/ingester/patterns/drain.js';
import { joinTokens, tokenize, Tokens } from '../../../src/ingester/patterns/tokenize.js';

const T0 = 1_700_000_000_000; // a multiple of 10 s

function patterns(d: Drain): string[] {
  return [...d.all()].map((c) => c.pattern()).sort();
}

function train(d: Drain, lines: string[], ts = T0): void {
  for (const l of lines) d.train(l, ts);
}

describe('tokenize', () => {
  const tk = (line: string, max = 80): { words: string[]; glue: number[] } | null => {
    const out = new Tokens(max);
    return tokenize(line, out) ? { words: out.words(), glue: [...out.glue.subarray(0, out.count)] } : null;
  };

  it('splits on runs of spaces and tabs, and key=value into a key= token and a glued value', () => {
    expect(tk('  a\tb   c ')).toEqual({ words: ['a', 'b', 'c'], glue: [0, 0, 0] });
    expect(tk('level=info msg=hi')).toEqual({ words: ['level=', 'info', 'msg=', 'hi'], glue: [0, 1, 0, 1] });
    // `=x`, `x=` stay whole; only the first '=' splits.
    expect(tk('=x x= a=b=c')).toEqual({ words: ['=x', 'x=', 'a=', 'b=c'], glue: [0, 0, 0, 1] });
    expect(tk('')).toEqual({ words: [], glue: [] });
    expect(tk('   ')).toEqual({ words: [], glue: [] });
  });

  it('splits a JSON line after each colon and before each comma, glued', () => {
    expect(tk('{"a":1,"msg":"x y","t":"12:30"}')).toEqual({
      words: ['{"a":', '1', ',"msg":', '"x', 'y"', ',"t":', '"12:', '30"}'],
      glue: [0, 1, 1, 1, 0, 1, 1, 1],
    });
    expect(tk('{ "a": 1 }')).toEqual({ words: ['{', '"a":', '1', '}'], glue: [0, 0, 0, 0] });
  });

  it('refuses a line past the token limit, counting a key=value pair as two', () => {
    expect(tk('a b c', 3)).not.toBeNull();
    expect(tk('a b c d', 3)).toBeNull();
    expect(tk('a b=c', 3)).not.toBeNull();
    expect(tk('a b c=d', 3)).toBeNull();
    expect(tk('{"a":1,"b":2}', 3)).toBeNull();
  });

  it('compares a token with a word without slicing it, and finds digits', () => {
    const t = new Tokens(8);
    tokenize('user bob7 in', t);
    expect([t.is(0, 'user'), t.is(0, 'use'), t.is(0, 'users'), t.is(1, 'bob7')]).toEqual([true, false, false, true]);
    expect([t.hasDigit(0), t.hasDigit(1)]).toEqual([false, true]);
  });

  it('joins tokens back with spaces except where glued, one <_> for a glued run', () => {
    expect(joinTokens(['ts=', PARAM, 'msg=', 'x'], [0, 1, 0, 1])).toBe('ts=<_> msg=x');
    expect(joinTokens(['{"t":', PARAM, PARAM, PARAM, ',"a":', PARAM, PARAM], [0, 1, 1, 1, 1, 0, 0])).toBe('{"t":<_>,"a": <_> <_>');
  });
});

describe('Drain', () => {
  it('finds the patterns of lines whose shapes are known', () => {
    const d = new Drain();
    train(d, [
      'user alice logged in from 10.0.0.1',
      'user bob logged in from 10.0.0.2',
      'connection closed after 5s',
      'user carol logged in from 192.168.7.1',
      'connection closed after 12s',
      'ts=2024-03-30T23:03:40 caller=grpc_logging.go:66 level=info method=/cortex.Ingester/Push duration=200ms msg=gRPC',
      'ts=2024-03-30T23:03:41 caller=grpc_logging.go:66 level=info method=/cortex.Ingester/Push duration=500ms msg=gRPC',
    ]);
    expect(patterns(d)).toEqual([
      'connection closed after <_>',
      'ts=<_> caller=grpc_logging.go:66 level=info method=/cortex.Ingester/Push duration=<_> msg=gRPC',
      'user <_> logged in from <_>',
    ]);
    const counts = Object.fromEntries([...d.all()].map((c) => [c.pattern(), c.counts.reduce((a, b) => a + b, 0)]));
    expect(counts).toEqual({
      'user <_> logged in from <_>': 3,
      'connection closed after <_>': 2,
      'ts=<_> caller=grpc_logging.go:66 level=info method=/cortex.Ingester/Push duration=<_> msg=gRPC': 2,
    });
  });

  it('keeps a line alone until a second one differs, and lines of other lengths or first tokens apart', () => {
    const d = new Drain();
    train(d, ['GET /a 200', 'GET /a 200 extra', 'POST /a 200']);
    expect(patterns(d)).toEqual(['GET /a 200', 'GET /a 200 extra', 'POST /a 200']);
    d.train('GET /b 200', T0);
    expect(patterns(d)).toEqual(['GET /a 200 extra', 'GET <_> 200', 'POST /a 200']);
  });

  it('merges at the similarity threshold and not below it', () => {
    // 10 tokens, same first token (the tree's only leading level at depth 4): similarity is the share
    // of equal positions. 3 equal of 10 = 0.3 meets simTh 0.3; 2 of 10 does not.
    const d = new Drain();
    d.train('a b c d e f g h i j', T0);
    d.train('a b c x x x x x x x', T0);
    expect(patterns(d)).toEqual(['a b c <_> <_> <_> <_> <_> <_> <_>']);
    const e = new Drain();
    e.train('a b c d e f g h i j', T0);
    e.train('a b y y y y y y y y', T0);
    expect(patterns(e)).toEqual(['a b c d e f g h i j', 'a b y y y y y y y y']);
    // A higher threshold keeps the 0.3 pair apart.
    const f = new Drain({ ...DRAIN_DEFAULTS, simTh: 0.5 });
    f.train('a b c d e f g h i j', T0);
    f.train('a b c x x x x x x x', T0);
    expect(f.size).toBe(2);
  });

  it('prefers the most similar cluster, then the one with more <_>', () => {
    const d = new Drain();
    train(d, ['job 1 done ok', 'job 2 done ok', 'job 3 failed badly']);
    // 'job <_> done ok' holds both first lines; the third is 1/4 similar to it (< 0.3) and stands alone.
    expect(patterns(d)).toEqual(['job 3 failed badly', 'job <_> done ok']);
    d.train('job 4 failed badly', T0);
    expect(patterns(d)).toEqual(['job <_> done ok', 'job <_> failed badly']);
  });

  it('counts lines per 10 s bucket, out-of-order ones included', () => {
    const d = new Drain();
    d.train('tick 1', T0 + 1_000);
    d.train('tick 2', T0 + 9_999);
    d.train('tick 3', T0 + 25_000);
    d.train('tick 4', T0 + 10_000); // older than the last bucket: inserted in place
    d.train('tick 5', T0 + 12_000);
    const [c] = [...d.all()];
    expect(c!.times).toEqual([T0, T0 + 10_000, T0 + 20_000]);
    expect(c!.counts).toEqual([2, 2, 1]);
  });

  it('skips lines past the length or token limits and empty lines', () => {
    const d = new Drain({ ...DRAIN_DEFAULTS, maxLineBytes: 20, maxTokens: 3 });
    expect(d.train('x'.repeat(21), T0)).toBe('skipped');
    expect(d.train('a b c d', T0)).toBe('skipped');
    expect(d.train('   ', T0)).toBe('skipped');
    expect(d.train('a b c', T0)).toBe('created');
    expect(d.size).toBe(1);
  });

  it('keeps levels apart', () => {
    const d = new Drain();
    d.train('request served in 5ms', T0, 'info');
    d.train('request served in 9ms', T0, 'error');
    d.train('request served in 7ms', T0, 'info');
    const got = [...d.all()].map((c) => `${c.level}:${c.pattern()}:${c.counts[0]}`).sort();
    expect(got).toEqual(['error:request served in 9ms:1', 'info:request served in <_>:2']);
  });

  it('never holds more than max clusters, evicting the least recently used with its tree nodes', () => {
    const d = new Drain({ ...DRAIN_DEFAULTS, maxClusters: 3 });
    train(d, ['alpha one two', 'beta one two', 'gamma one two']);
    d.train('alpha three four', T0); // 'alpha one two' and this are 1/3 similar: a match at 0.3
    expect(patterns(d)).toEqual(['alpha <_> <_>', 'beta one two', 'gamma one two']);
    d.train('delta one two', T0); // evicts beta (least recently used), not alpha (just matched)
    expect(patterns(d)).toEqual(['alpha <_> <_>', 'delta one two', 'gamma one two']);
    expect(d.size).toBe(3);
  });

  it('stays within its caps on high-cardinality garbage, tree included', () => {
    const max = 50;
    const d = new Drain({ ...DRAIN_DEFAULTS, maxClusters: max });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + (rnd() % 12);
      const words: string[] = [];
      for (let j = 0; j < n; j++) words.push(rnd().toString(36).replace(/\d/g, 'q'));
      d.train(words.join(' '), T0 + i);
      expect(d.size).toBeLessThanOrEqual(max);
    }
    // Each cluster needs at most one first-layer node and one leading-token node.
    expect(d.nodeCount()).toBeLessThanOrEqual(2 * max);
  });

  it('drops expired buckets, then the clusters left empty and their nodes', () => {
    const d = new Drain();
    d.train('old line here', T0);
    d.train('new line there now', T0 + 60_000);
    d.train('new line there again', T0 + 5_000);
    expect(d.prune(T0 + 10_000)).toBe(1);
    expect(patterns(d)).toEqual(['new line there <_>']);
    const [c] = [...d.all()];
    expect(c!.times).toEqual([T0 + 60_000]);
    expect(d.prune(T0 + 70_000)).toBe(0);
    expect(d.nodeCount()).toBe(0);
  });
  it('mines JSON lines by their keys', () => {
    const d = new Drain();
    train(d, [
      '{"ts":"2024-05-01T10:00:01Z","level":"info","msg":"order created","id":17}',
      '{"ts":"2024-05-01T10:00:02Z","level":"info","msg":"order created","id":18}',
      '{"ts":"2024-05-01T10:00:03Z","level":"info","msg":"order shipped","id":19}',
    ]);
    // The hour and minute are the same in all three lines: only the seconds vary.
    expect(patterns(d)).toEqual(['{"ts":"2024-05-01T10:00:<_>,"level":"info","msg":"order <_>,"id":<_>']);
  });

  it('compares a line with at most MAX_CANDIDATES clusters of its leaf, those used last', () => {
    const d = new Drain({ ...DRAIN_DEFAULTS, maxClusters: 1000 });
    // Same length, same first token, nothing else alike (similarity 1/4 < 0.3): each its own cluster.
    for (let i = 0; i < MAX_CANDIDATES + 1; i++) d.train(`x a${'q'.repeat(i)} b${'q'.repeat(i)} c${'q'.repeat(i)}`, T0);
    expect(d.size).toBe(MAX_CANDIDATES + 1);
    // The first one is now out of reach: a copy of it starts another cluster…
    expect(d.train('x a b c', T0)).toBe('created');
    // …while the last one made is found.
    const last = 'q'.repeat(MAX_CANDIDATES);
    expect(d.train(`x a${last} b${last} c${last}`, T0)).toBe('matched');
  });
  it('takes a literal <_> in a line as a variable already', () => {
    const d = new Drain();
    d.train('value <_> set now', T0);
    expect([...d.all()][0]!.params).toBe(1);
    d.train('value 7 set now', T0);
    d.train('value 8 set later', T0);
    expect(patterns(d)).toEqual(['value <_> set <_>']);
    expect([...d.all()][0]!.params).toBe(2);
  });
});
