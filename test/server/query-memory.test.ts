import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.kill();
    removeDir(s.dataDir);
  }
});

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

// Highly compressible lines: the ingester holds them in a fraction of their size and never fills a
// chunk during the test, so everything pushed stays unflushed and every query reads ingester memory.
const PAD = 'the quick brown fox jumps over the lazy dog '.repeat(16);

/** Pushes batches of 8 streams × 100 lines as fast as the server takes them until `until()` is true. */
async function pusher(url: string, client: number, until: () => boolean, pushed: { bytes: number; failed: string[] }): Promise<void> {
  let seq = 0;
  while (!until()) {
    const now = BigInt(Date.now()) * 1_000_000n;
    const streams = [];
    for (let s = 0; s < 8; s++) {
      const values: [string, string][] = [];
      for (let i = 0; i < 100; i++) values.push([String(now + BigInt(seq)), `level=info client=c${client} stream=s${s} seq=${seq++} msg="handled" ${PAD}`]);
      streams.push({ stream: { app: 'qmem', client: `c${client}`, stream: `s${s}` }, values });
    }
    const body = JSON.stringify({ streams });
    const r = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await r.text();
    if (r.status === 204) pushed.bytes += body.length;
    else if (pushed.failed.length < 5) pushed.failed.push(`${r.status} ${text.slice(0, 200)}`);
  }
}

const QUERIES: [string, Record<string, string>][] = [
  ['query_range', { query: '{app="qmem"} |= "seq=1"', limit: '100' }],
  ['query_range', { query: 'sum by (client) (rate({app="qmem"}[1m]))', step: '15' }],
  ['query_range', { query: 'sum(count_over_time({app="qmem"} | logfmt [1m]))', step: '15' }],
  ['labels', {}],
  ['series', { 'match[]': '{app="qmem"}' }],
];

describe('memory under sustained push and query load', () => {
  it('RSS stays bounded while three clients push compressible data and one queries the last five minutes every 300 ms', async () => {
    const s = await startServer({ args: ['--limits.ingestion-rate-mb', '10000', '--limits.ingestion-burst-size-mb', '10000'] });
    running.push(s);
    const pid = s.proc.pid!;
    const pushed = { bytes: 0, failed: [] as string[] };
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 200);
    // Phase 1: unflushed data builds up (at least 250 MB of lines, or 20 s).
    const t0 = Date.now();
    const fill = () => pushed.bytes >= 250e6 || Date.now() - t0 > 20_000;
    await Promise.all([0, 1, 2].map((c) => pusher(s.url, c, fill, pushed)));
    const afterFill = rssMiB(pid);
    // Phase 2: pushes continue while one client queries over all of it.
    const t1 = Date.now();
    const done = () => Date.now() - t1 > 30_000;
    const answers: Record<string, number> = {};
    let queries = 0;
    const querier = async () => {
      for (let k = 0; !done(); k++) {
        const [path, p] = QUERIES[k % QUERIES.length]!;
        const now = Date.now() * 1e6;
        const started = Date.now();
        const r = await fetch(`${s.url}/loki/api/v1/${path}?${new URLSearchParams({ ...p, start: String(now - 300e9), end: String(now) })}`);
        await r.text();
        answers[r.status] = (answers[r.status] ?? 0) + 1;
        queries++;
        const wait = 300 - (Date.now() - started);
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      }
    };
    await Promise.all([querier(), ...[0, 1, 2].map((c) => pusher(s.url, c + 3, done, pushed))]);
    clearInterval(sampler);
    const summary = `pushed ${(pushed.bytes / 1e6).toFixed(0)} MB (failures: ${pushed.failed.join(' | ') || 'none'}), RSS after filling ${afterFill.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, ${queries} queries ${JSON.stringify(answers)}`;
    console.log(summary);
    expect(pushed.failed, summary).toEqual([]);
    expect(answers[200], summary).toBe(queries);
    expect(pushed.bytes, summary).toBeGreaterThan(150e6);
    // Reading what the ingester holds decompresses one block at a time: the queries add little to
    // what the pushes alone need. Copying the unflushed data per query (the old way) needs its raw size.
    expect(peak, summary).toBeLessThan(600);
  }, 120_000);
});
