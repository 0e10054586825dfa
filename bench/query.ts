/**
 * Query throughput over the ingest benchmark's data (≥ 200 MB raw, pushed as protobuf and flushed):
 * (a) a rare-needle literal filter, (b) a common word with limit 1000, (c) a case-insensitive regex filter,
 * (d) `sum by (level) (count_over_time({…} | json [1m]))` and its logfmt twin, (e) `sum(rate({…} |= "error" [5m]))`.
 * For each: latency, server CPU seconds, and MB of raw lines scanned per server CPU-second; beside them the
 * in-process ceiling on the same chunk files: decode (zstd) + Buffer.indexOf of every block, per CPU-second.
 *
 *   node dist/bench/query.js [--mb 200] [--runs 3] [--warmup 2] [--only a,b,c] [--data DIR]
 *
 * Each query first runs --warmup times unmeasured: the server is a long-running process, and the first
 * runs of a query shape mostly measure V8 compiling its code (on every query thread); then the best
 * (lowest wall time) of --runs is reported.
 * --data DIR keeps the server's data in DIR and, when DIR already holds chunks from an earlier run with
 * the same --mb, queries them without pushing again (the generator is deterministic): for profiling loops.
 */
import { existsSync, readdirSync, readFileSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nowNs } from '../src/model/time.js';
import { generateStreams, RARE_NEEDLE } from './generate.js';
import { buildBatches, protoBodies, pushAll } from './lib/dataset.js';
import { cpuSeconds } from './lib/process-stats.js';
import { searchCeiling } from './lib/search-ceiling.js';
import { startBenchServer } from './lib/server.js';

const MB = 1e6;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

function chunkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...chunkFiles(p));
    else if (!name.includes('.narvi-tmp-') && name !== 'labels') out.push(p);
  }
  return out;
}

/** The ceiling over this run's chunk files (see searchCeiling). */
function ceiling(dir: string, needle: string): { mbPerCpuSecond: number; rawBytes: number } {
  return searchCeiling(chunkFiles(dir).map((f) => readFileSync(f)), needle);
}

/** BENCH_SERVER_ARGS (e.g. `--querier.workers 1`, to profile a query on the main thread) reaches the server's flags. */
function extraServerArgs(): string[] {
  return (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
}

interface QueryCase {
  name: string;
  query: string;
  limit?: number;
  /** Raw bytes of the streams the selector picks. */
  scannedBytes: number;
}

async function main(): Promise<void> {
  const mb = Number(arg('mb', '200'));
  const runs = Number(arg('runs', '3'));
  const warmup = Number(arg('warmup', '2'));
  const streams = generateStreams(50, 1);
  const dataDir = arg('data', '');
  const reuse = dataDir !== '' && existsSync(join(dataDir, 'chunks'));
  const startFile = join(dataDir, 'bench-start-ns');
  // Reused data keeps the timestamps it was generated with.
  const startNs = reuse ? BigInt(readFileSync(startFile, 'utf8')) : nowNs() - 3_600_000_000_000n;
  process.stdout.write(`generating and pushing ${mb} MB…\n`);
  const batches = buildBatches(mb * MB, startNs);
  const perStream = new Map<number, number>();
  let first = 1n << 62n;
  let last = 0n;
  for (const b of batches) {
    for (const [i, es] of b.streams) {
      for (const e of es) {
        perStream.set(i, (perStream.get(i) ?? 0) + Buffer.byteLength(e.line));
        if (e.ts < first) first = e.ts;
        if (e.ts > last) last = e.ts;
      }
    }
  }
  if (dataDir !== '' && !reuse) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(startFile, String(startNs));
  }
  const serverArgs = ['--limits.ingestion-rate-mb', '0', '--limits.max-global-streams-per-user', '0', '--limits.max-query-series', '5000', '--limits.query-timeout', '10m', ...extraServerArgs()];
  const server = await (dataDir !== '' ? startBenchServer(serverArgs, dataDir) : startBenchServer(serverArgs));
  if (!reuse) {
    await pushAll(server.url, protoBodies(batches, streams.map((s) => s.labelString)), 'application/x-protobuf', 4);
    const f = await fetch(`${server.url}/flush`, { method: 'POST' });
    if (f.status !== 204) throw new Error(`flush answered ${f.status}`);
  }

  const bytesOf = (format: string | null) => streams.reduce((n, s, i) => n + (format === null || s.format === format ? perStream.get(i) ?? 0 : 0), 0);
  const appsOf = (format: string) => [...new Set(streams.filter((s) => s.format === format).map((s) => s.labels.app))].join('|');
  const all = '{namespace=~".+"}';
  const cases: QueryCase[] = [
    { name: '(a) rare needle', query: `${all} |= "${RARE_NEEDLE}"`, limit: 100, scannedBytes: bytesOf(null) },
    { name: '(b) common word, limit 1000', query: `${all} |= "error"`, limit: 1000, scannedBytes: bytesOf(null) },
    { name: '(c) case-insensitive regex', query: `${all} |~ "(?i)database connection REFUSED"`, limit: 100, scannedBytes: bytesOf(null) },
    { name: '(d) json count by level', query: `sum by (level) (count_over_time({app=~"${appsOf('json')}"} | json [1m]))`, scannedBytes: bytesOf('json') },
    { name: '(d) logfmt count by level', query: `sum by (level) (count_over_time({app=~"${appsOf('logfmt')}"} | logfmt [1m]))`, scannedBytes: bytesOf('logfmt') },
    { name: '(e) rate of "error"', query: `sum(rate(${all} |= "error" [5m]))`, scannedBytes: bytesOf(null) },
  ];
  // --only a,d: run just the cases with those letters (profiling one query at a time).
  const only = arg('only', '').split(',').filter(Boolean);
  if (only.length > 0) cases.splice(0, cases.length, ...cases.filter((c) => only.some((l) => c.name.startsWith(`(${l})`))));
  const start = first - 60_000_000_000n;
  const end = last + 60_000_000_000n;
  const results: Record<string, unknown>[] = [];
  for (const c of cases) {
    let best = { wall: Infinity, cpu: Infinity, entries: 0 };
    for (let r = -warmup; r < runs; r++) {
      const qs = new URLSearchParams({ query: c.query, start: String(start), end: String(end), limit: String(c.limit ?? 100) });
      const cpu0 = cpuSeconds(server.pid);
      const t0 = performance.now();
      const res = await fetch(`${server.url}/loki/api/v1/query_range?${qs}`);
      const body = (await res.json()) as { data: { result: { values: unknown[] }[] } };
      const wall = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(server.pid) - cpu0;
      if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${JSON.stringify(body)}`);
      const entries = body.data.result.reduce((n, s) => n + s.values.length, 0);
      if (r >= 0 && wall < best.wall) best = { wall, cpu, entries };
    }
    const row = {
      name: c.name,
      query: c.query,
      latencySeconds: best.wall,
      serverCpuSeconds: best.cpu,
      scannedMB: c.scannedBytes / MB,
      mbPerCpuSecond: c.scannedBytes / MB / Math.max(best.cpu, 0.01),
      mbPerWallSecond: c.scannedBytes / MB / best.wall,
      resultValues: best.entries,
    };
    results.push(row);
    process.stdout.write(`${c.name.padEnd(30)} ${best.wall.toFixed(3)} s, server CPU ${best.cpu.toFixed(2)} s → ${row.mbPerCpuSecond.toFixed(0)} MB/CPU-s (${row.mbPerWallSecond.toFixed(0)} MB/s wall) over ${row.scannedMB.toFixed(0)} MB; ${best.entries} values\n`);
  }
  await server.stop();
  const ceil = ceiling(join(server.dataDir, 'chunks'), RARE_NEEDLE);
  process.stdout.write(`ceiling (in-process, one core): zstd decompress of each block's lines + Buffer.indexOf over the same chunks: ${ceil.mbPerCpuSecond.toFixed(0)} MB/CPU-s of raw lines\n`);
  const out = resolve(import.meta.dirname, '../../bench/out');
  mkdirSync(out, { recursive: true });
  const doc = { bench: 'query', mb, ceilingMBPerCpuSecond: ceil.mbPerCpuSecond, results };
  writeFileSync(join(out, 'query.json'), JSON.stringify(doc, null, 2));
  process.stdout.write(JSON.stringify(doc) + '\n');
}

await main();
