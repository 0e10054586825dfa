/**
 * Ingest throughput: pushes ≥ 200 MB of generated JSON, logfmt and nginx lines over ~50 streams to a real
 * server in ~1 MiB batches at concurrency 4, once as JSON and once as protobuf+snappy, and reports lines/s,
 * MB/s of raw lines, MB of raw lines per server CPU-second, server CPU seconds, peak RSS, bytes on disk
 * after flush, the compression ratio and the WAL size after flush. Beside them, the ceiling measured in
 * this process on the same bytes: JSON.parse of the bodies plus zstd compression of the lines.
 *
 *   node dist/bench/ingest.js [--mb 200] [--format json|protobuf|both]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compress } from '../src/chunk/zstd.js';
import { nowNs } from '../src/model/time.js';
import { generateLines, generateStreams } from './generate.js';
import { buildBatches, jsonBodies, protoBodies, pushAll, type Batch } from './lib/dataset.js';
import { dirBytes } from './lib/disk.js';
import { cpuSeconds, peakRss } from './lib/process-stats.js';
import { startBenchServer } from './lib/server.js';

const MB = 1e6;
const CONCURRENCY = 4;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

interface Result {
  format: string;
  lines: number;
  rawMB: number;
  wallSeconds: number;
  linesPerSecond: number;
  rawMBPerSecond: number;
  serverCpuSeconds: number;
  rawMBPerCpuSecond: number;
  peakRssMB: number;
  chunkBytes: number;
  indexBytes: number;
  walBytesAfterFlush: number;
  walBytesBeforeFlush: number;
  compressionRatio: number;
  ceilingMBPerCpuSecond: number;
}

async function runFormat(format: 'json' | 'protobuf', bodies: Buffer[], lines: number, rawBytes: number): Promise<Result> {
  // Rate limits off: this measures the server, not the limiter.
  const server = await startBenchServer(['--limits.ingestion-rate-mb', '0', '--limits.max-global-streams-per-user', '0']);
  const contentType = format === 'json' ? 'application/json' : 'application/x-protobuf';
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  await pushAll(server.url, bodies, contentType, CONCURRENCY);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(server.pid) - cpu0;
  const walBefore = dirBytes(join(server.dataDir, 'wal'));
  const f = await fetch(`${server.url}/flush`, { method: 'POST' });
  if (f.status !== 204) throw new Error(`flush answered ${f.status}`);
  const rss = peakRss(server.pid);
  const chunkBytes = dirBytes(join(server.dataDir, 'chunks'));
  const indexBytes = dirBytes(join(server.dataDir, 'index'));
  const walAfter = dirBytes(join(server.dataDir, 'wal'));
  await server.stop();
  return {
    format,
    lines,
    rawMB: rawBytes / MB,
    wallSeconds: wall,
    linesPerSecond: lines / wall,
    rawMBPerSecond: rawBytes / MB / wall,
    serverCpuSeconds: cpu,
    rawMBPerCpuSecond: rawBytes / MB / cpu,
    peakRssMB: rss / 2 ** 20,
    chunkBytes,
    indexBytes,
    walBytesAfterFlush: walAfter,
    walBytesBeforeFlush: walBefore,
    compressionRatio: rawBytes / chunkBytes,
    ceilingMBPerCpuSecond: 0,
  };
}

/** In-process ceiling: JSON.parse every body, then zstd-compress the raw line bytes in 256 KiB blocks. */
function ceiling(batches: Batch[], bodies: Buffer[], rawBytes: number): number {
  const c0 = process.cpuUsage();
  const block: Buffer[] = [];
  let blockBytes = 0;
  for (const body of bodies) JSON.parse(body.toString('utf8'));
  for (const b of batches) {
    for (const es of b.streams.values()) {
      for (const e of es) {
        const buf = Buffer.from(e.line);
        block.push(buf);
        blockBytes += buf.length;
        if (blockBytes >= 256 * 1024) {
          compress(Buffer.concat(block));
          block.length = 0;
          blockBytes = 0;
        }
      }
    }
  }
  const c = process.cpuUsage(c0);
  return rawBytes / MB / ((c.user + c.system) / 1e6);
}

async function main(): Promise<void> {
  const mb = Number(arg('mb', '200'));
  const which = arg('format', 'both');
  const streams = generateStreams(50, 1);
  // Lines end about now so none is rejected as too old; 200 MB at 0.2 ms steps spans ~5 minutes.
  const startNs = nowNs() - 3_600_000_000_000n;
  process.stdout.write(`generating ${mb} MB of log lines over ${streams.length} streams…\n`);
  const batches = buildBatches(mb * MB, startNs);
  const lines = batches.reduce((n, b) => n + b.lines, 0);
  const rawBytes = batches.reduce((n, b) => n + b.rawBytes, 0);
  const json = jsonBodies(batches, streams.map((s) => s.labels));
  const ceil = ceiling(batches, json, rawBytes);
  const results: Result[] = [];
  if (which === 'both' || which === 'json') results.push(await runFormat('json', json, lines, rawBytes));
  if (which === 'both' || which === 'protobuf') results.push(await runFormat('protobuf', protoBodies(batches, streams.map((s) => s.labelString)), lines, rawBytes));
  for (const r of results) {
    r.ceilingMBPerCpuSecond = ceil;
    process.stdout.write(
      [
        `ingest ${r.format}: ${r.lines} lines, ${r.rawMB.toFixed(1)} MB raw in ${batches.length} batches of ~1 MiB, concurrency ${CONCURRENCY}`,
        `  ${Math.round(r.linesPerSecond)} lines/s, ${r.rawMBPerSecond.toFixed(1)} MB/s raw (wall ${r.wallSeconds.toFixed(2)} s)`,
        `  server CPU ${r.serverCpuSeconds.toFixed(2)} s → ${r.rawMBPerCpuSecond.toFixed(1)} MB of raw lines per server CPU-second (ceiling in-process: ${ceil.toFixed(1)} MB/CPU-s for JSON.parse + zstd compress)`,
        `  peak RSS ${r.peakRssMB.toFixed(0)} MiB`,
        `  on disk after flush: chunks ${(r.chunkBytes / MB).toFixed(2)} MB (ratio ${r.compressionRatio.toFixed(2)}×), index ${(r.indexBytes / MB).toFixed(2)} MB, WAL ${(r.walBytesBeforeFlush / MB).toFixed(1)} MB before flush → ${(r.walBytesAfterFlush / 1e3).toFixed(1)} kB after`,
      ].join('\n') + '\n',
    );
  }
  const out = resolve(import.meta.dirname, '../../bench/out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'ingest.json'), JSON.stringify(results, null, 2));
  process.stdout.write(JSON.stringify({ bench: 'ingest', results }) + '\n');
}

await main();
