import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';
import { buildDataset, nsToRFC3339Nano, ordered, pushDataset, utcMs, type Row } from './dataset.js';
import { runCli } from './run-cli.js';

const S = 1_000_000_000n;
let server: RunningServer;
let rows: Row[];
let base: bigint;
let range: string[];

/** The log and metric commands take --timezone; labels, series and stats do not. */
const q = (...args: string[]) => runCli([...args, '--addr', server.url, ...range, ...(['query', 'instant-query'].includes(args[0]!) ? ['--timezone', 'UTC'] : [])]);
const lines = (s: string) => s.split('\n').filter((l) => l !== '');
const only = (pred: (r: Row) => boolean) => rows.filter(pred);

beforeAll(async () => {
  server = await startServer();
  base = (BigInt(Date.now()) / 1000n - 20n * 60n) * S;
  rows = buildDataset(base);
  await pushDataset(server.url, rows);
  range = ['--from', (base - S).toString(), '--to', (base + 600n * S).toString()];
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe('narvi query: log queries', () => {
  it('prints one stream newest first, its labels announced once on stderr', async () => {
    const r = await q('query', '{app="api", level="info"}', '--limit', '5');
    const want = ordered(only((x) => x.labels.app === 'api' && x.labels.level === 'info'), 'backward').slice(0, 5);
    expect(r).toEqual({
      code: 0,
      stdout: want.map((x) => `${utcMs(x.ts)} ${x.line}\n`).join(''),
      stderr: 'Common labels: {app="api", env="test", level="info"}\n',
    });
    const quiet = await q('query', '{app="api", level="info"}', '--limit', '5', '--quiet');
    expect(quiet).toEqual({ ...r, stderr: '' });
  });

  it('shows the labels that differ in one padded column, oldest first with --forward', async () => {
    const r = await q('query', '{env="test", app=~"api|web"}', '--limit', '0', '--forward');
    const want = ordered(only((x) => x.labels.app !== 'same'), 'forward');
    const label = (x: Row) => `{app="${x.labels.app}", level="${x.labels.level}"}`;
    const width = Math.max(...want.map((x) => label(x).length));
    expect(r.stderr).toBe('Common labels: {env="test"}\n');
    expect(r.stdout).toBe(want.map((x) => `${utcMs(x.ts)} ${label(x).padEnd(width)} ${x.line}\n`).join(''));
    expect(r.stdout).not.toContain('\u001b['); // never colour into a pipe
    expect(r.code).toBe(0);
  });

  it('prints 30 lines by default', async () => {
    const r = await q('query', '{env="test"}', '-o', 'raw');
    expect(lines(r.stdout)).toHaveLength(30);
  });

  it('pages through everything with --limit 0, crossing 25 entries on one nanosecond in batches of 7', async () => {
    for (const dir of [[], ['--forward']]) {
      const r = await q('query', '{env="test"}', '--limit', '0', '--batch', '7', '-o', 'raw', ...dir);
      expect(r.code).toBe(0);
      expect(lines(r.stdout).sort()).toEqual(rows.map((x) => x.line).sort());
    }
    const same = await q('query', '{app="same"}', '--limit', '0', '--batch', '10', '-o', 'raw');
    expect(lines(same.stdout).sort()).toEqual(only((x) => x.labels.app === 'same').map((x) => x.line).sort());
  });

  it('stops at --limit across pages', async () => {
    const r = await q('query', '{app="api"}', '--limit', '23', '--batch', '10', '-o', 'raw', '--forward');
    expect(lines(r.stdout)).toEqual(ordered(only((x) => x.labels.app === 'api'), 'forward').slice(0, 23).map((x) => x.line));
  });

  it('writes jsonl with full labels and nanosecond timestamps', async () => {
    const r = await q('query', '{app="web"}', '--limit', '0', '--batch', '6', '-o', 'jsonl', '--forward');
    const got = lines(r.stdout).map((l) => JSON.parse(l) as unknown);
    expect(got).toEqual(ordered(only((x) => x.labels.app === 'web'), 'forward').map((x) => ({ timestamp: nsToRFC3339Nano(x.ts), labels: x.labels, line: x.line })));
    expect(r.stderr).toBe('');
  });

  it('follows --no-labels, --include-label and --exclude-label', async () => {
    const args = ['query', '{app="api"}', '--limit', '3', '--forward'];
    const first = ordered(only((x) => x.labels.app === 'api'), 'forward').slice(0, 3);
    const none = await q(...args, '--no-labels');
    expect(none.stdout).toBe(first.map((x) => `${utcMs(x.ts)} ${x.line}\n`).join(''));
    expect(none.stderr).toBe('');
    const inc = await q(...args, '--include-label', 'app');
    expect(lines(inc.stdout)[0]).toBe(`${utcMs(first[0]!.ts)} {app="api"} ${first[0]!.line}`);
    const exc = await q(...args, '--exclude-label', 'level', '-o', 'jsonl');
    expect(JSON.parse(lines(exc.stdout)[0]!)).toEqual({ timestamp: nsToRFC3339Nano(first[0]!.ts), labels: { app: 'api', env: 'test' }, line: first[0]!.line });
  });

  it('prints query statistics on stderr with --stats', async () => {
    const r = await q('query', '{app="api"}', '--limit', '0', '--batch', '20', '-o', 'raw', '--stats');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^Stats:\n {2}requests: +3\n/);
    expect(r.stderr).toMatch(/lines processed: +\d+/);
  });

  it('turns a server error into one line and exit code 1', async () => {
    const r = await q('query', '{app="api"} |= ');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^narvi query: server answered 400 Bad Request: parse error at line 1, col \d+: [^\n]*\n$/);
  });
});

describe('narvi query: metric queries', () => {
  it('prints a range result as a table, and one JSON object per series with jsonl', async () => {
    const query = 'sum by (level) (count_over_time({app="api"}[1m]))';
    const table = await q('query', query, '--step', '1m');
    expect(table.code).toBe(0);
    const [header, ...body] = lines(table.stdout);
    expect(header).toMatch(/^TIME +level +VALUE$/);
    expect(body.some((l) => /\berror\b/.test(l))).toBe(true);
    expect(body.some((l) => /\binfo\b/.test(l))).toBe(true);

    const j = await q('query', query, '--step', '1m', '-o', 'jsonl');
    const series = lines(j.stdout).map((l) => JSON.parse(l) as { metric: Record<string, string>; values: [number, string][] });
    expect(series.map((s) => s.metric).sort((a, b) => (a.level! < b.level! ? -1 : 1))).toEqual([{ level: 'error' }, { level: 'info' }]);
    // One-minute windows stepped by one minute tile the range: every entry is counted exactly once.
    const total = (lvl: string) => series.find((s) => s.metric.level === lvl)!.values.reduce((n, [, v]) => n + Number(v), 0);
    expect(total('info')).toBe(40);
    expect(total('error')).toBe(10);
  });

  it('narvi instant-query evaluates at --now', async () => {
    const at = (base + 300n * S).toString();
    const r = await runCli(['instant-query', 'count_over_time({app="web"}[10m])', '--now', at, '--addr', server.url, '--timezone', 'UTC', '-o', 'jsonl']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([{ metric: { app: 'web', env: 'test', level: 'info' }, value: [Number(at) / 1e9, '20'] }]);
    const t = await runCli(['instant-query', 'sum(count_over_time({env="test"}[10m]))', '--now', at, '--addr', server.url, '--timezone', 'UTC']);
    expect(t.stdout).toBe(`TIME                      VALUE\n${utcMs(base + 300n * S)}     95\n`);
  });
});

describe('narvi labels, series, stats, volume', () => {
  it('lists label names and the values of one label', async () => {
    const names = await q('labels');
    expect(lines(names.stdout)).toEqual(expect.arrayContaining(['app', 'env', 'level']));
    expect(names.code).toBe(0);
    const values = await q('labels', 'app');
    expect(values.stdout).toBe('api\nsame\nweb\n');
    const j = await q('labels', 'level', '-o', 'jsonl');
    expect(lines(j.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([{ label: 'level', value: 'error' }, { label: 'level', value: 'info' }]);
  });

  it('lists the matching streams, and analyses their labels', async () => {
    const r = await q('series', '{env="test"}');
    expect(r.stdout).toBe(
      ['{app="api", env="test", level="error"}', '{app="api", env="test", level="info"}', '{app="same", env="test"}', '{app="web", env="test", level="info"}', ''].join('\n'),
    );
    const two = await q('series', '{app="web"}', '{app="same"}', '-o', 'jsonl');
    expect(lines(two.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([{ app: 'same', env: 'test' }, { app: 'web', env: 'test', level: 'info' }]);
    const a = await q('series', '{env="test"}', '--analyze-labels');
    expect(a.stderr).toBe('Total streams: 4\nUnique labels: 3\n');
    expect(lines(a.stdout)).toEqual([
      'LABEL  UNIQUE VALUES  FOUND IN STREAMS',
      'app                3                 4',
      'level              2                 3',
      'env                1                 4',
    ]);
  });

  it('shows index statistics', async () => {
    const r = await q('stats', '{env="test"}', '-o', 'jsonl');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { streams: number; chunks: number; entries: number; bytes: number };
    expect(s.streams).toBe(4);
    expect(s.entries).toBe(95);
    expect(s.bytes).toBeGreaterThan(0);
    const t = await q('stats', '{env="test"}');
    expect(t.stdout).toMatch(/^Streams: +4\nChunks: +\d+\nEntries: +95\nBytes: +[\d.]+ k?B \(\d+\)\n$/);
  });

  it('ranks volumes biggest first, grouped by the selector\'s labels or by --target-labels', async () => {
    type Sample = { metric: Record<string, string>; value: [number, string] };
    const jsonl = async (...args: string[]) => lines((await q('volume', '{env="test"}', '-o', 'jsonl', ...args)).stdout).map((l) => JSON.parse(l) as Sample);

    const all = await jsonl();
    expect(all.map((x) => x.metric)).toEqual([{ env: 'test' }]);
    expect(Number(all[0]!.value[1])).toBeGreaterThan(0);

    const byApp = await jsonl('--target-labels', 'app');
    expect(byApp.map((x) => x.metric.app).sort()).toEqual(['api', 'same', 'web']);
    const byAppLevel = await jsonl('--target-labels', 'app,level');
    expect(byAppLevel).toHaveLength(4);

    const t = await q('volume', '{env="test"}', '--target-labels', 'app,level');
    const [header, ...body] = lines(t.stdout);
    expect(header).toMatch(/^ *VOLUME +BYTES +LABELS$/);
    expect(body).toHaveLength(4);
    const bytes = body.map((l) => Number(/ (\d+) +\{/.exec(l)![1]));
    expect(bytes).toEqual([...bytes].sort((x, y) => y - x));
    expect(body.some((l) => l.endsWith('{app="same"}'))).toBe(true);

    const overTime = await q('volume', '{env="test"}', '--range', '--step', '5m', '--target-labels', 'app', '-o', 'jsonl');
    const series = lines(overTime.stdout).map((l) => JSON.parse(l) as { metric: Record<string, string>; values: [number, string][] });
    expect(series.map((x) => x.metric.app).sort()).toEqual(['api', 'same', 'web']);
    expect(series.every((x) => x.values.length > 0)).toBe(true);
  });
});
