/**
 * Time to free the CPU once a query must stop: after `limits.query_timeout`, and after its client closed
 * the connection, for the worst queries of issue #10: `(a|aa)+$` over long lines of `a` ending in `!`
 * (every line backtracks; V8's linear-time fallback still needs milliseconds per line), and `(.*a){25}!`
 * over 50 KB lines (beyond the fallback: a single line never finishes, so the worker must be terminated).
 *
 *   node dist/bench/query-lifetime.js [--lines 4000] [--timeout 3s] [--runs 3]
 *
 * For each case: the answer's status and latency, then how long after the answer (or the disconnect) the
 * server process (all threads, from /proc) kept burning CPU, and /ready's worst latency meanwhile. The
 * ideal is 0 ms; the design bound is the worker's abort grace (ABORT_GRACE_MS) plus one line's work.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ABORT_GRACE_MS } from '../src/querier/workers/pool.js';
import { cpuSeconds } from './lib/process-stats.js';
import { startBenchServer, type BenchServer } from './lib/server.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

const NS = 1_000_000n;

async function push(url: string, app: string, lines: string[]): Promise<void> {
  const t0 = BigInt(Date.now() - 120_000) * NS;
  for (let off = 0; off < lines.length; off += 500) {
    const values = lines.slice(off, off + 500).map((l, i) => [String(t0 + BigInt(off + i) * NS), l]);
    const r = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams: [{ stream: { app }, values }] }) });
    if (r.status !== 204) throw new Error(`push ${app}: ${r.status} ${await r.text()}`);
  }
}

function rangeUrl(url: string, query: string): string {
  const end = BigInt(Date.now()) * NS;
  const q = new URLSearchParams({ query, start: String(end - 3600n * 1000n * NS), end: String(end), step: '60' });
  return `${url}/loki/api/v1/query_range?${q}`;
}

/**
 * Watches the process for `watchMs` after `from` (performance.now()): the ms from `from` to the end of
 * the last 100 ms sample in which it used more than 3 of /proc's 10 ms ticks (30% of a core: an idle
 * server answering the /ready probes uses 0–1), and /ready's worst latency.
 */
async function cpuFreedAfter(server: BenchServer, from: number, watchMs = 5000): Promise<{ freedMs: number; readyWorstMs: number }> {
  let last = cpuSeconds(server.pid);
  let busyUntil = from;
  let readyWorstMs = 0;
  let probing = false;
  while (performance.now() - from < watchMs) {
    if (!probing) {
      probing = true;
      const t = performance.now();
      void fetch(`${server.url}/ready`).then(() => {
        readyWorstMs = Math.max(readyWorstMs, performance.now() - t);
        probing = false;
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    const now = cpuSeconds(server.pid);
    if (Math.round((now - last) * 100) > 3) busyUntil = performance.now();
    last = now;
  }
  return { freedMs: Math.max(0, busyUntil - from), readyWorstMs };
}

interface Row {
  case: string;
  query: string;
  stop: 'timeout' | 'disconnect';
  status: number | 'abandoned';
  answerMs: number;
  cpuFreedMs: number;
  readyWorstMs: number;
}

async function timeoutCase(server: BenchServer, name: string, query: string): Promise<Row> {
  const t0 = performance.now();
  const r = await fetch(rangeUrl(server.url, query));
  await r.text();
  const answered = performance.now();
  const { freedMs, readyWorstMs } = await cpuFreedAfter(server, answered);
  return { case: name, query, stop: 'timeout', status: r.status, answerMs: answered - t0, cpuFreedMs: freedMs, readyWorstMs };
}

async function disconnectCase(server: BenchServer, name: string, query: string, afterMs: number): Promise<Row> {
  const ctl = new AbortController();
  const t0 = performance.now();
  const done = fetch(rangeUrl(server.url, query), { signal: ctl.signal }).then(
    (r) => r.status,
    () => 'abandoned' as const,
  );
  await new Promise((r) => setTimeout(r, afterMs));
  ctl.abort();
  const left = performance.now();
  const status = await done;
  const { freedMs, readyWorstMs } = await cpuFreedAfter(server, left);
  return { case: name, query, stop: 'disconnect', status, answerMs: left - t0, cpuFreedMs: freedMs, readyWorstMs };
}

async function main(): Promise<void> {
  const lines = Number(arg('lines', '4000'));
  const timeout = arg('timeout', '3s');
  const runs = Number(arg('runs', '3'));
  const fast = ['--limits.ingestion-rate-mb', '10000', '--limits.ingestion-burst-size-mb', '10000'];
  const cases: [string, string][] = [
    ['redos (a|aa)+$', 'count_over_time({app="redos"} |~ "(a|aa)+$" [1h])'],
    ['stuck (.*a){25}!', 'count_over_time({app="stuck"} |~ "(.*a){25}!" [1h])'],
  ];
  const rows: Row[] = [];
  const load = async (server: BenchServer) => {
    await push(server.url, 'redos', Array.from({ length: lines }, () => 'a'.repeat(2999) + '!'));
    await push(server.url, 'stuck', Array.from({ length: 40 }, () => 'a'.repeat(50_000)));
  };
  process.stdout.write(`pushing ${lines} lines of 3 KB and 40 of 50 KB, query timeout ${timeout}…\n`);
  const timed = await startBenchServer([...fast, '--limits.query-timeout', timeout]);
  const patient = await startBenchServer([...fast, '--limits.query-timeout', '10m']);
  try {
    await load(timed);
    await load(patient);
    for (let r = 0; r < runs; r++) {
      for (const [name, q] of cases) {
        rows.push(await timeoutCase(timed, name, q));
        rows.push(await disconnectCase(patient, name, q, 1000));
      }
    }
  } finally {
    await timed.stop();
    await patient.stop();
  }
  const summary: Record<string, unknown>[] = [];
  for (const [name] of cases) {
    for (const stop of ['timeout', 'disconnect'] as const) {
      const rs = rows.filter((r) => r.case === name && r.stop === stop);
      const worst = rs.reduce((a, b) => (b.cpuFreedMs > a.cpuFreedMs ? b : a));
      const s = {
        case: name,
        stop,
        status: rs.map((r) => r.status).join(','),
        answerMs: Math.round(Math.max(...rs.map((r) => r.answerMs))),
        cpuFreedMsWorst: Math.round(worst.cpuFreedMs),
        cpuFreedMsMedian: Math.round(rs.map((r) => r.cpuFreedMs).sort((a, b) => a - b)[rs.length >> 1]!),
        readyWorstMs: Math.round(Math.max(...rs.map((r) => r.readyWorstMs))),
      };
      summary.push(s);
      const what = stop === 'timeout' ? `answered ${s.status} after ${s.answerMs} ms` : `client left after ${s.answerMs} ms`;
      process.stdout.write(`${name.padEnd(18)} ${stop.padEnd(10)} ${what}; CPU free ${s.cpuFreedMsMedian} ms later (worst ${s.cpuFreedMsWorst} ms of ${runs}); /ready worst ${s.readyWorstMs} ms\n`);
    }
  }
  process.stdout.write(`ideal: 0 ms; design bound: the ${ABORT_GRACE_MS} ms abort grace before a worker stuck in a regex is terminated, plus the 100 ms sampling of /proc\n`);
  const out = resolve(import.meta.dirname, '../../bench/out');
  mkdirSync(out, { recursive: true });
  const doc = { bench: 'query-lifetime', lines, timeout, runs, abortGraceMs: ABORT_GRACE_MS, summary, rows };
  writeFileSync(join(out, 'query-lifetime.json'), JSON.stringify(doc, null, 2));
  process.stdout.write(JSON.stringify({ bench: doc.bench, summary }) + '\n');
}

await main();
