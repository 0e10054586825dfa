import { describe, expect, it } from 'vitest';
import { batchFromEntries, lineAt, type EntryBatch } from '../../src/model/batch.js';
import { CompiledDelete, deletePredicateFor, deletesForStream, DeleteQueryError, parseDeleteQuery, withoutCovered, type DeleteSpec } from '../../src/store/delete-matcher.js';
import { Prng } from '../helpers/prng.js';

const MS = 1_000_000n;

function spec(query: string, startMs: number, endMs: number, id = 'r1', tenant = 't'): DeleteSpec {
  return { id, tenant, query, startMs, endMs };
}

function rows(b: EntryBatch | null): string[] {
  if (!b) return [];
  const out: string[] = [];
  for (let i = 0; i < b.count; i++) out.push(`${b.ts[i]}:${lineAt(b, i)}${b.metadata?.[i] ? ':' + JSON.stringify(b.metadata[i]) : ''}`);
  return out;
}

describe('parseDeleteQuery', () => {
  it('accepts log queries with line filters, parsers and label filters', () => {
    expect(parseDeleteQuery('{a="b"}').stages).toHaveLength(0);
    expect(parseDeleteQuery('{a="b"} |= "x" != "y" | logfmt | level="error"').stages).toHaveLength(4);
  });

  it.each([
    ['sum(count_over_time({a="b"}[1m]))', 'metric query'],
    ['{a="b"', 'invalid query expression'],
    ['a="b"', 'invalid query expression'],
    ['{a="b"} | regexp "("', 'invalid query expression'],
    ['', 'invalid query expression'],
  ])('refuses %j', (q, msg) => {
    expect(() => parseDeleteQuery(q)).toThrow(DeleteQueryError);
    expect(() => parseDeleteQuery(q)).toThrow(msg);
  });
});

describe('withoutCovered', () => {
  const labels = { app: 'x' };

  it('keeps both bounds inclusive at millisecond precision', () => {
    const b = batchFromEntries([999_999n, 1_000_000n, 1_500_000n, 2_000_000n, 2_000_001n].map((ts) => ({ ts, line: `l${ts}` })));
    const sd = deletesForStream(labels, [new CompiledDelete(spec('{app="x"}', 1, 2))], 0n, 10n ** 18n)!;
    expect(rows(withoutCovered(b, sd))).toEqual(['999999:l999999', '2000001:l2000001']);
  });

  it('returns the same batch when nothing is covered and null when everything is', () => {
    const b = batchFromEntries([{ ts: 5n * MS, line: 'a' }]);
    expect(withoutCovered(b, { labels, requests: [new CompiledDelete(spec('{app="x"} |= "zzz"', 0, 10))] })).toBe(b);
    expect(withoutCovered(b, { labels, requests: [new CompiledDelete(spec('{app="x"}', 0, 10))] })).toBeNull();
  });

  it('applies label filters over parsed fields and structured metadata', () => {
    const b = batchFromEntries([
      { ts: 1n * MS, line: 'level=error msg=a' },
      { ts: 2n * MS, line: 'level=info msg=b', metadata: { user: 'eve' } },
      { ts: 3n * MS, line: 'level=info msg=c', metadata: { user: 'bob' } },
    ]);
    const sd = { labels, requests: [new CompiledDelete(spec('{app="x"} | logfmt | level="error"', 0, 10, 'a')), new CompiledDelete(spec('{app="x"} | user="eve"', 0, 10, 'b'))] };
    expect(rows(withoutCovered(b, sd))).toEqual(['3000000:level=info msg=c:{"user":"bob"}']);
  });

  it('matches the selector per stream, with a missing label read as empty', () => {
    const reqs = [new CompiledDelete(spec('{app="x", env!="prod"}', 0, 10))];
    expect(deletesForStream({ app: 'x' }, reqs, 0n, 20n * MS)).not.toBeNull();
    expect(deletesForStream({ app: 'x', env: 'prod' }, reqs, 0n, 20n * MS)).toBeNull();
    expect(deletesForStream({ app: 'y' }, reqs, 0n, 20n * MS)).toBeNull();
    // A query range that ends where the request starts (exclusive end) does not meet it.
    expect(deletesForStream({ app: 'x' }, [new CompiledDelete(spec('{app="x"}', 5, 10))], 0n, 5n * MS)).toBeNull();
    expect(deletesForStream({ app: 'x' }, [new CompiledDelete(spec('{app="x"}', 5, 10))], 0n, 5n * MS + 1n)).not.toBeNull();
  });

  it('agrees with a line-by-line check on random batches and requests', () => {
    const prng = new Prng(11);
    const rnd = () => prng.next();
    // Each query beside what it means, written out by hand.
    const QUERIES: [string, (e: { line: string; metadata?: Record<string, string> }) => boolean][] = [
      ['{app="x"}', () => true],
      ['{app="x"} |= "a"', (e) => e.line.includes('a')],
      ['{app="x"} != "b" | k="1"', (e) => !e.line.includes('b') && e.metadata?.k === '1'],
      ['{app=~"x|y"} |~ "c[0-9]+"', (e) => /c[0-9]+/.test(e.line)],
    ];
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rnd() * 60);
      const entries: { ts: bigint; line: string; metadata?: Record<string, string> }[] = [];
      let t = BigInt(Math.floor(rnd() * 50)) * MS;
      for (let i = 0; i < n; i++) {
        // Half the steps land on whole milliseconds, where the inclusive bounds are.
        t += rnd() < 0.5 ? BigInt(Math.floor(rnd() * 3)) * MS : BigInt(Math.floor(rnd() * 3 * 1_000_000));
        const e: (typeof entries)[number] = { ts: t, line: `${'abc'[Math.floor(rnd() * 3)]}${i}${rnd() < 0.3 ? ' é' : ''}` };
        if (rnd() < 0.2) e.metadata = { k: String(i % 3) };
        entries.push(e);
      }
      const reqs = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, k) => {
        const s = Math.floor(rnd() * 150);
        const [q, means] = QUERIES[Math.floor(rnd() * QUERIES.length)]!;
        return { c: new CompiledDelete(spec(q, s, s + Math.floor(rnd() * 80), `r${k}`)), means };
      });
      const b = batchFromEntries(entries);
      const sd = { labels, requests: reqs.map((r) => r.c) };
      const want = entries.filter((e) => !reqs.some((r) => e.ts >= r.c.startNs && e.ts <= r.c.endNs && r.means(e)));
      expect(rows(withoutCovered(b, sd))).toEqual(rows(want.length ? batchFromEntries(want) : null));
    }
  });
});

describe('deletePredicateFor (the compactor)', () => {
  it("tests single entries against the tenant's requests only", () => {
    const reqs = [spec('{app="x"} |= "secret"', 10, 20, 'a', 't1'), spec('{app="x"}', 0, 100, 'b', 't2')];
    const drop = deletePredicateFor('t1', { app: 'x' }, reqs)!;
    expect(drop(15n * MS, Buffer.from('a secret'))).toBe(true);
    expect(drop(15n * MS, Buffer.from('public'))).toBe(false);
    expect(drop(21n * MS, Buffer.from('a secret'))).toBe(false);
    expect(drop(20n * MS, Buffer.from('a secret'))).toBe(true);
    expect(deletePredicateFor('t1', { app: 'y' }, reqs)).toBeUndefined();
    expect(deletePredicateFor('t3', { app: 'x' }, reqs)).toBeUndefined();
    // A chunk outside every request's range needs no rewrite; one touching an end does.
    expect(deletePredicateFor('t1', { app: 'x' }, reqs, { minTs: 21n * MS, maxTs: 30n * MS })).toBeUndefined();
    expect(deletePredicateFor('t1', { app: 'x' }, reqs, { minTs: 0n, maxTs: 10n * MS - 1n })).toBeUndefined();
    expect(deletePredicateFor('t1', { app: 'x' }, reqs, { minTs: 20n * MS, maxTs: 30n * MS })).toBeDefined();
    expect(deletePredicateFor('t1', { app: 'x' }, reqs, { minTs: 0n, maxTs: 10n * MS })).toBeDefined();
  });

  it('sees structured metadata', () => {
    const drop = deletePredicateFor('t', { app: 'x' }, [spec('{app="x"} | trace="1"', 0, 100)])!;
    expect(drop(5n * MS, Buffer.from('l'), { trace: '1' })).toBe(true);
    expect(drop(5n * MS, Buffer.from('l'), { trace: '2' })).toBe(false);
    expect(drop(5n * MS, Buffer.from('l'))).toBe(false);
  });
});
