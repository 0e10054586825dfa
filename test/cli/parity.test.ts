import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonBody, pushJson } from '../helpers/push.js';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { runCli, startCli } from './run-cli.js';

const S = 1_000_000_000n;
let server: RunningServer;
let base: bigint;
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

beforeAll(async () => {
  server = await startServer();
  base = (BigInt(Date.now()) / 1000n - 600n) * S;
  const a = { app: 'pg', env: 'prod' };
  const b = { app: 'pg' };
  // Oldest first: three lines of a, then b and a interleaved, so the second page brings a stream without env.
  const body = jsonBody([
    { stream: a, values: [[String(base + 1n * S), 'a1'], [String(base + 2n * S), 'a2'], [String(base + 3n * S), 'a3'], [String(base + 5n * S), 'a5']] },
    { stream: b, values: [[String(base + 4n * S), 'b4'], [String(base + 6n * S), 'b6']] },
  ]);
  expect((await pushJson(server.url, body)).status).toBe(204);
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe('narvi query and tail announce the common labels again when they change', () => {
  it('paging: the second page lacks env, so the narrower set is announced before it', async () => {
    const r = await runCli(['query', '{app="pg"}', '--addr', server.url, '--from', String(base), '--to', String(base + 60n * S), '--limit', '0', '--batch', '3', '--forward', '--timezone', 'UTC']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('Common labels: {app="pg", env="prod"}\nCommon labels: {app="pg"}\n');
    const out = lines(r.stdout).map((l) => l.replace(/^\S+ /, ''));
    // The first page's lines needed no label column; from the second page on, a's lines say env="prod".
    expect(out).toEqual(['a1', 'a2', 'a3', `${' '.repeat(12)} b4`, '{env="prod"} a5', `${' '.repeat(12)} b6`]);
  });

  it('one page holding both streams announces the common set once', async () => {
    const r = await runCli(['query', '{app="pg"}', '--addr', server.url, '--from', String(base), '--to', String(base + 60n * S), '--limit', '0', '--forward']);
    expect(r.stderr).toBe('Common labels: {app="pg"}\n');
  });

  it('tailing: a new stream without env re-announces the common labels', async () => {
    const tail = startCli(['tail', '{app="tl"}', '--addr', server.url, '--since', '1m', '--timezone', 'UTC']);
    try {
      // No wait for the tail to connect: --since 1m brings a line pushed before that too.
      const now = () => BigInt(Date.now()) * 1_000_000n;
      expect((await pushJson(server.url, jsonBody([{ stream: { app: 'tl', env: 'prod' }, values: [[String(now()), 'first']] }]))).status).toBe(204);
      await waitFor(() => tail.stdout().includes('first'), 'the first tailed line');
      expect(tail.stderr()).toContain('Common labels: {app="tl", env="prod"}\n');
      expect((await pushJson(server.url, jsonBody([{ stream: { app: 'tl' }, values: [[String(now()), 'second']] }]))).status).toBe(204);
      await waitFor(() => tail.stdout().includes('second'), 'the second tailed line');
      expect(tail.stderr()).toContain('Common labels: {app="tl", env="prod"}\nCommon labels: {app="tl"}\n');
      expect((await pushJson(server.url, jsonBody([{ stream: { app: 'tl', env: 'prod' }, values: [[String(now()), 'third']] }]))).status).toBe(204);
      await waitFor(() => tail.stdout().includes('third'), 'the third tailed line');
      expect(lines(tail.stdout()).find((l) => l.endsWith('third'))).toMatch(/ \{env="prod"\} third$/);
    } finally {
      await tail.stop();
    }
  });
});

describe('server errors are printed whole', () => {
  it('a message longer than a screen reaches stderr complete', async () => {
    const name = 'x'.repeat(700);
    const query = `{app="pg"} | label_format ${name}="{{.foo"`;
    const url = new URL(`${server.url}/loki/api/v1/query_range`);
    url.search = new URLSearchParams({ query }).toString();
    const res = await fetch(url);
    expect(res.status).toBe(400);
    const message = (await res.text()).trim();
    expect(message.length).toBeGreaterThan(1000);
    const r = await runCli(['query', query, '--addr', server.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`narvi query: server answered 400 Bad Request: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  });
});

describe('metric range results sit on the step grid', () => {
  it('narvi query prints step-aligned timestamps whatever --from says', async () => {
    const from = base + 17n * S;
    const r = await runCli(['query', 'count_over_time({app="pg"}[1m])', '--addr', server.url, '--from', String(from), '--to', String(from + 60n * S), '--step', '1m', '-o', 'jsonl']);
    expect(r.code).toBe(0);
    const series = lines(r.stdout).map((l) => JSON.parse(l) as { metric: Record<string, string>; values: [number, string][] });
    const sec = Number(base / S);
    // base is a whole second; the grid is whole minutes from the epoch.
    const first = Math.floor((sec + 17) / 60) * 60;
    const ts = [...new Set(series.flatMap((s) => s.values.map(([t]) => t)))].sort((x, y) => x - y);
    for (const t of ts) expect(t % 60).toBe(0);
    expect(ts[0]).toBeGreaterThanOrEqual(first);
    expect(ts[ts.length - 1]).toBeLessThanOrEqual(Math.ceil((sec + 77) / 60) * 60);
  });
});
