import { describe, expect, it } from 'vitest';
import { jsonBody, pushJson } from '../helpers/push.js';
import { suiteServer } from '../helpers/server.js';

const server = suiteServer();
const S = 1_000_000_000n;
// Two hours back, on a whole hour: a multiple of every step used below.
const T0 = (BigInt(Date.now()) / 1000n / 3600n) * 3600n - 2n * 3600n;
const at = (sec: bigint) => ((T0 + sec) * S).toString();

async function range(query: string, start: bigint, end: bigint, step: string) {
  const url = new URL(`${server().url}/loki/api/v1/query_range`);
  url.search = new URLSearchParams({ query, start: String(T0 + start), end: String(T0 + end), step, direction: 'forward' }).toString();
  const r = await fetch(url);
  expect(r.status).toBe(200);
  return (await r.json()) as { data: { resultType: string; result: { values: [number | string, string][] }[] } };
}

describe('query_range aligns metric queries to the step, as Loki does', () => {
  it('setup: entries at known times', async () => {
    const values: [string, string][] = [-10n, 5n, 65n, 130n, 200n, 350n].map((s) => [at(s), `line at ${s}`]);
    expect((await pushJson(server().url, jsonBody([{ stream: { app: 'align' }, values }]))).status).toBe(204);
  });

  it('rounds start down and end up to multiples of the step counted from the epoch', async () => {
    // Asked for T0+17s … T0+317s by 60s: Loki evaluates at T0, T0+60 … T0+360, each over (t-1m, t].
    const r = await range('count_over_time({app="align"}[1m])', 17n, 317n, '60');
    expect(r.data.resultType).toBe('matrix');
    const sec = (s: bigint) => Number(T0 + s);
    expect(r.data.result.map((x) => x.values)).toEqual([
      [
        [sec(0n), '1'], // T0-10
        [sec(60n), '1'], // T0+5
        [sec(120n), '1'], // T0+65
        [sec(180n), '1'], // T0+130
        [sec(240n), '1'], // T0+200
        // T0+300: nothing in (T0+240, T0+300]
        [sec(360n), '1'], // T0+350, past the end asked for, reached by rounding the end up
      ],
    ]);
  });

  it('uses the epoch grid for steps that do not divide a minute evenly into the start', async () => {
    // 45s steps: T0+17 → T0 (T0 is a multiple of 45s), T0+100 → T0+135.
    const r = await range('count_over_time({app="align"}[1m])', 17n, 100n, '45');
    const sec = (s: bigint) => Number(T0 + s);
    expect(r.data.result.map((x) => x.values)).toEqual([[[sec(0n), '1'], [sec(45n), '2'], [sec(90n), '1'], [sec(135n), '1']]]);
  });

  it('leaves a range already on the grid as it is', async () => {
    const r = await range('count_over_time({app="align"}[1m])', 0n, 300n, '60');
    expect(r.data.result[0]!.values.map(([t]) => Number(t) - Number(T0))).toEqual([0, 60, 120, 180, 240]);
  });

  it('does not move a log query: it returns exactly the entries in [start, end)', async () => {
    const r = await range('{app="align"}', 17n, 317n, '60');
    expect(r.data.resultType).toBe('streams');
    expect(r.data.result.flatMap((s) => s.values.map((v) => v[1]))).toEqual(['line at 65', 'line at 130', 'line at 200']);
  });

  it('does not move an instant query', async () => {
    const url = new URL(`${server().url}/loki/api/v1/query`);
    url.search = new URLSearchParams({ query: 'count_over_time({app="align"}[1m])', time: String(T0 + 17n) }).toString();
    const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
    // (T0-43s, T0+17s] holds T0-10 and T0+5.
    expect(body.data.result.map((r) => r.value)).toEqual([[Number(T0 + 17n), '2']]);
  });
});
