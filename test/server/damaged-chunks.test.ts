import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelIndex } from '../../src/store/label-index.js';
import { nowNs, pushProto } from '../helpers/push.js';
import { queryLogs } from '../helpers/query-lines.js';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

/**
 * Three streams, each flushed as two chunks; then one chunk of `a` gets a flipped bit, one of `b` is cut
 * short and one of `c` is deleted. Every query over them must still answer 200 with the other chunks'
 * lines and a warning that names the damaged object, on the query thread and on the worker threads.
 */
let server: RunningServer;
const sent: Record<string, string[][]> = { a: [[], []], b: [[], []], c: [[], []] };
const damagedKeys: string[] = [];

async function pushRound(round: number): Promise<void> {
  const base = nowNs(-120_000) + BigInt(round) * 1_000_000_000n;
  const streams = ['a', 'b', 'c'].map((s) => ({
    labels: `{app="dmg", s="${s}"}`,
    entries: Array.from({ length: 40 }, (_, i) => ({ ts: base + BigInt(i), line: `round=${round} s=${s} i=${i} level=info` })),
  }));
  const r = await pushProto(server.url, streams);
  expect(r.status, r.body).toBe(204);
  for (const st of streams) sent[/s="(\w)"/.exec(st.labels)![1]!]![round]!.push(...st.entries.map((e) => e.line));
  expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
}

beforeAll(async () => {
  // Two workers and no size threshold: queries split across threads, so damage met on a worker is tested too.
  server = await startServer({ args: ['--querier.workers', '2', '--querier.worker-min-bytes', '0'] });
  await pushRound(0);
  await pushRound(1);
  const index = new LabelIndex(join(server.dataDir, 'index', 'index.sqlite'), { readonly: true });
  const streams = new Map(index.streams('fake').map((s) => [s.id, s.labels.s!]));
  // Each stream's older chunk is round 0's.
  const firstChunk = (s: string) => {
    const own = index.allChunks('fake').filter((c) => streams.get(c.streamId) === s);
    expect(own).toHaveLength(2);
    return own.sort((x, y) => (x.minTs < y.minTs ? -1 : 1))[0]!.key;
  };
  const keys = { a: firstChunk('a'), b: firstChunk('b'), c: firstChunk('c') };
  index.close();
  const file = (key: string) => join(server.dataDir, 'chunks', ...key.split('/'));
  const a = readFileSync(file(keys.a));
  a[a.length - 1] = a[a.length - 1]! ^ 0x10;
  writeFileSync(file(keys.a), a);
  truncateSync(file(keys.b), Math.floor(readFileSync(file(keys.b)).length / 2));
  rmSync(file(keys.c));
  damagedKeys.push(keys.a, keys.b, keys.c);
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe('a damaged chunk costs its own lines, not the query', () => {
  it('answers a log query with the other chunks and one warning per damaged chunk', async () => {
    const r = await queryLogs(server.url, '{app="dmg"}');
    expect(r.status).toBe(200);
    const expected = [...sent.a![1]!, ...sent.b![1]!, ...sent.c![1]!];
    expect(r.lines.length).toBe(expected.length);
    expect(new Set(r.lines)).toEqual(new Set(expected));
    expect(r.warnings).toHaveLength(3);
    for (const k of damagedKeys) expect(r.warnings.some((w) => w.includes(k))).toBe(true);
    expect(r.warnings.find((w) => w.includes(damagedKeys[0]!))).toMatch(/checksum mismatch/);
    expect(r.warnings.find((w) => w.includes(damagedKeys[2]!))).toMatch(/object not found/);
  });

  it('does the same on worker threads (a regex filter runs there) and for metric queries', async () => {
    const r = await queryLogs(server.url, '{app="dmg", s=~"a|b"} |~ "level=(info|warn)"');
    expect(r.status).toBe(200);
    expect(new Set(r.lines)).toEqual(new Set([...sent.a![1]!, ...sent.b![1]!]));
    expect(r.warnings).toHaveLength(2);

    const end = nowNs(60_000);
    const qs = new URLSearchParams({ query: 'sum(count_over_time({app="dmg"} |~ "i=.*" [10m]))', start: String(end - 3_600_000_000_000n), end: String(end), step: '600' });
    const res = await fetch(`${server.url}/loki/api/v1/query_range?${qs}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { warnings?: string[]; data: { result: { values: [number, string][] }[] } };
    expect(body.warnings?.length).toBe(3);
    const max = Math.max(...body.data.result[0]!.values.map(([, v]) => Number(v)));
    expect(max).toBe(120);
  });

  it('sends no warnings when nothing is damaged, and counts the damage in a metric', async () => {
    const r = await queryLogs(server.url, '{app="none"}');
    expect(r.status).toBe(200);
    const res = await fetch(`${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="dmg", s="zzz"}' })}`);
    expect(Object.keys((await res.json()) as object)).not.toContain('warnings');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/^narvi_querier_damaged_chunks_total\{kind="corrupt"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(/^narvi_querier_damaged_chunks_total\{kind="missing"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
