/**
 * Compaction over a week of backfilled logs (default ≥ 1 GB of raw lines, 50 streams) stored the way an
 * ingester with a short `chunk_idle_period` leaves it: one small chunk per stream for every 30 minutes of
 * data. Reports disk use before and after a compaction run, the compactor process's CPU seconds per GB of
 * raw lines, and query latency on the store before and after, beside the in-process ceiling (zstd
 * decompress + Buffer.indexOf over every block of the same chunks).
 *
 *   node dist/bench/compaction.js [--mb 1024] [--runs 3] [--idle-minutes 30]
 *
 * The data is written straight into the store and index with the chunk codec (what the ingester's flush
 * does), not pushed through HTTP: a week of backfill through the push path would measure ingestion.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodeBlock, encodeChunk, readChunkHeader } from '../src/chunk/chunk.js';
import { batchFromEntries } from '../src/model/batch.js';
import { fingerprint } from '../src/model/labels.js';
import { nowNs } from '../src/model/time.js';
import { LabelIndex } from '../src/store/label-index.js';
import { generateLines, generateStreams, RARE_NEEDLE } from './generate.js';
import { cpuSeconds, peakRss } from './lib/process-stats.js';
import { searchCeiling } from './lib/search-ceiling.js';
import { startBenchServer } from './lib/server.js';

const MB = 1e6;
const WEEK_NS = 7n * 24n * 3_600_000_000_000n;
const BLOCK_BYTES = 256 * 1024;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

/** Apparent bytes, bytes the filesystem allocated (small files round up to whole blocks), and file count. */
function diskUse(dir: string): { bytes: number; allocated: number; files: number } {
  let bytes = 0;
  let allocated = 0;
  const all = files(dir);
  for (const f of all) {
    const st = statSync(f);
    bytes += st.size;
    allocated += st.blocks * 512;
  }
  return { bytes, allocated, files: all.length };
}

/** Writes the week straight into the store: one chunk per stream per idle period of data time. */
function generate(dataDir: string, totalBytes: number, idleNs: bigint, endNs: bigint): { rawBytes: number; lines: number; chunks: number; startNs: bigint } {
  const streams = generateStreams(50, 1);
  const index = new LabelIndex(join(dataDir, 'index', 'index.sqlite'));
  const startNs = endNs - WEEK_NS;
  // ~200 bytes a line on average: spread the lines evenly over the week.
  const meanStepNs = Number(WEEK_NS) / (totalBytes / 200);
  const open = streams.map(() => ({ entries: [] as { ts: bigint; line: string }[], bytes: 0, window: -1n }));
  const ids = streams.map((s) => index.ensureStream('fake', fingerprint(s.labelString), s.labels));
  let rawBytes = 0;
  let lines = 0;
  let chunks = 0;
  const flush = (i: number) => {
    const o = open[i]!;
    if (o.entries.length === 0) return;
    const batches = [];
    let from = 0;
    let acc = 0;
    for (let k = 0; k < o.entries.length; k++) {
      acc += Buffer.byteLength(o.entries[k]!.line);
      if (acc >= BLOCK_BYTES) {
        batches.push(batchFromEntries(o.entries.slice(from, k + 1)));
        from = k + 1;
        acc = 0;
      }
    }
    if (from < o.entries.length) batches.push(batchFromEntries(o.entries.slice(from)));
    const bytes = encodeChunk(batches);
    const minTs = o.entries[0]!.ts;
    const maxTs = o.entries[o.entries.length - 1]!.ts;
    const fp = fingerprint(streams[i]!.labelString);
    const key = `fake/${fp}/${minTs.toString(16)}-${maxTs.toString(16)}-${crc32(bytes).toString(16).padStart(8, '0')}`;
    // Plain writes: the store's put fsyncs every object, which would make generating the week take minutes.
    mkdirSync(join(dataDir, 'chunks', 'fake', fp), { recursive: true });
    writeFileSync(join(dataDir, 'chunks', 'fake', fp, key.slice(key.lastIndexOf('/') + 1)), bytes);
    index.addChunk({ streamId: ids[i]!, minTs, maxTs, key, entries: o.entries.length, rawSize: o.bytes, compressedSize: bytes.length });
    chunks++;
    o.entries = [];
    o.bytes = 0;
  };
  for (const l of generateLines({ streams: 50, startNs, meanStepNs, maxBytes: totalBytes })) {
    const o = open[l.stream]!;
    const window = (l.ts - startNs) / idleNs;
    if (window !== o.window && o.entries.length > 0) flush(l.stream);
    o.window = window;
    o.entries.push({ ts: l.ts, line: l.line });
    const n = Buffer.byteLength(l.line);
    o.bytes += n;
    rawBytes += n;
    lines++;
  }
  for (let i = 0; i < streams.length; i++) flush(i);
  index.close();
  return { rawBytes, lines, chunks, startNs };
}

/** The in-process ceiling: decompress every block's lines and search them, MB of raw lines per CPU second. */
function ceiling(dir: string): number {
  const bufs = files(dir).filter((f) => /\/[0-9a-f]+-[0-9a-f]+-[0-9a-f]{8}$/.test(f)).map((f) => readFileSync(f));
  return searchCeiling(bufs, RARE_NEEDLE).mbPerCpuSecond;
}

interface Case {
  name: string;
  query: string;
  start: bigint;
  end: bigint;
  limit: number;
}

async function queryLatencies(dataDir: string, cases: Case[], runs: number): Promise<Record<string, { seconds: number; values: number }>> {
  const server = await startBenchServer(['--target', 'querier', '--limits.max-query-series', '5000', '--limits.query-timeout', '10m'], dataDir);
  const out: Record<string, { seconds: number; values: number }> = {};
  try {
    for (const c of cases) {
      let best = Infinity;
      let values = 0;
      for (let r = -1; r < runs; r++) {
        const qs = new URLSearchParams({ query: c.query, start: String(c.start), end: String(c.end), limit: String(c.limit) });
        const t0 = performance.now();
        const res = await fetch(`${server.url}/loki/api/v1/query_range?${qs}`);
        const body = (await res.json()) as { data: { result: { values: unknown[] }[] } };
        const wall = (performance.now() - t0) / 1000;
        if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${JSON.stringify(body)}`);
        values = body.data.result.reduce((n, s) => n + s.values.length, 0);
        if (r >= 0 && wall < best) best = wall;
      }
      out[c.name] = { seconds: best, values };
    }
  } finally {
    await server.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const mb = Number(arg('mb', '1024'));
  const runs = Number(arg('runs', '3'));
  const idleNs = BigInt(Number(arg('idle-minutes', '30'))) * 60_000_000_000n;
  const dataDir = mkdtempSync(join(tmpdir(), 'narvi-bench-compaction-'));
  const endNs = nowNs() - 60_000_000_000n;
  process.stdout.write(`generating a week of logs, ${mb} MB raw, one chunk per stream per ${arg('idle-minutes', '30')} min of data, into ${dataDir}…\n`);
  const t0 = performance.now();
  const gen = generate(dataDir, mb * MB, idleNs, endNs);
  process.stdout.write(`  ${gen.lines} lines, ${(gen.rawBytes / MB).toFixed(0)} MB raw, ${gen.chunks} chunks in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);

  const all = '{namespace=~".+"}';
  const dayNs = 24n * 3_600_000_000_000n;
  const cases: Case[] = [
    { name: 'rare needle over the week', query: `${all} |= "${RARE_NEEDLE}"`, start: gen.startNs, end: endNs + 1n, limit: 100 },
    { name: 'count_over_time by app, last day', query: `sum by (app) (count_over_time(${all} [1h]))`, start: endNs - dayNs, end: endNs + 1n, limit: 100 },
    { name: 'one stream, last hour, limit 1000', query: '{app="checkout"}', start: endNs - 3_600_000_000_000n, end: endNs + 1n, limit: 1000 },
  ];

  const diskBefore = diskUse(join(dataDir, 'chunks'));
  const indexBefore = diskUse(join(dataDir, 'index'));
  const queriesBefore = await queryLatencies(dataDir, cases, runs);

  const compactor = await startBenchServer(['--target', 'compactor', '--compactor.compaction-interval', '0s', '--compactor.retention-delete-delay', '0s'], dataDir);
  const cpu0 = cpuSeconds(compactor.pid);
  const w0 = performance.now();
  const res = await fetch(`${compactor.url}/compactor/run`, { method: 'POST' });
  const report = (await res.json()) as Record<string, unknown>;
  const wall = (performance.now() - w0) / 1000;
  const cpu = cpuSeconds(compactor.pid) - cpu0;
  const rss = peakRss(compactor.pid);
  await compactor.stop();
  if (res.status !== 200) throw new Error(`compaction run answered ${res.status}: ${JSON.stringify(report)}`);

  const diskAfter = diskUse(join(dataDir, 'chunks'));
  const indexAfter = diskUse(join(dataDir, 'index'));
  const queriesAfter = await queryLatencies(dataDir, cases, runs);
  const ceil = ceiling(join(dataDir, 'chunks'));
  const gb = gen.rawBytes / 1e9;

  const doc = {
    bench: 'compaction',
    rawMB: gen.rawBytes / MB,
    lines: gen.lines,
    chunksBefore: gen.chunks,
    run: report,
    compactionWallSeconds: wall,
    compactionCpuSeconds: cpu,
    compactionCpuSecondsPerGB: cpu / gb,
    compactorPeakRssMB: rss / MB,
    disk: { before: diskBefore, after: diskAfter, indexBefore, indexAfter },
    queries: cases.map((c) => ({ name: c.name, before: queriesBefore[c.name], after: queriesAfter[c.name] })),
    ceilingMBPerCpuSecond: ceil,
  };
  const mbs = (n: number) => (n / MB).toFixed(1);
  process.stdout.write(`chunks: ${diskBefore.files} files, ${mbs(diskBefore.bytes)} MB (${mbs(diskBefore.allocated)} MB allocated) → ${diskAfter.files} files, ${mbs(diskAfter.bytes)} MB (${mbs(diskAfter.allocated)} MB allocated)\n`);
  process.stdout.write(`index: ${mbs(indexBefore.bytes)} MB → ${mbs(indexAfter.bytes)} MB\n`);
  process.stdout.write(`compaction: ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} CPU-s = ${(cpu / gb).toFixed(1)} CPU-s per GB raw, peak RSS ${mbs(rss)} MB; merged ${report.chunksMerged}, wrote ${report.chunksWritten}\n`);
  for (const q of doc.queries) {
    process.stdout.write(`${q.name.padEnd(36)} before ${q.before!.seconds.toFixed(3)} s → after ${q.after!.seconds.toFixed(3)} s (${q.after!.values} values; before ${q.before!.values})\n`);
  }
  process.stdout.write(`ceiling (in-process, one core): zstd decompress of each block's lines + Buffer.indexOf over the compacted chunks: ${ceil.toFixed(0)} MB/CPU-s of raw lines; the week is ${(gen.rawBytes / MB / ceil).toFixed(2)} CPU-s at that rate\n`);
  const out = resolve(import.meta.dirname, '../../bench/out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'compaction.json'), JSON.stringify(doc, null, 2));
  process.stdout.write(JSON.stringify(doc) + '\n');
}

await main();
