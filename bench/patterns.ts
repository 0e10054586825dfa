/**
 * Cost of the log-pattern miner on the ingest path: mines generated JSON, logfmt and nginx lines over 50
 * streams (and, as the worst case, high-cardinality garbage lines that each start a cluster and evict
 * one) through PatternStore.observe in pushes of 1 000 entries per stream, and reports lines and MB per
 * CPU-second with the clusters held. Beside it, the ingest floor measured in this process on the same
 * lines: JSON.parse of a push body holding them plus zstd compression of the lines, the least work any
 * accepted push costs; the miner's share of ingest is miner CPU / (floor CPU + miner CPU).
 *
 *   node dist/bench/patterns.js [--lines 300000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compress } from '../src/chunk/zstd.js';
import { PatternStore } from '../src/ingester/patterns/pattern-store.js';
import type { IngestEntry } from '../src/model/entry.js';
import { generateLines, generateStreams, prng } from './generate.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

interface Push {
  canonical: string;
  labels: Record<string, string>;
  entries: IngestEntry[];
}

/** Lines grouped into pushes of up to 1 000 entries per stream, in arrival order. */
function pushesOf(lines: { stream: number; ts: bigint; line: string }[], streams: { labels: Record<string, string>; labelString: string }[]): Push[] {
  const out: Push[] = [];
  const open = new Map<number, Push>();
  for (const l of lines) {
    let p = open.get(l.stream);
    if (!p) {
      const s = streams[l.stream]!;
      p = { canonical: s.labelString, labels: s.labels, entries: [] };
      open.set(l.stream, p);
      out.push(p);
    }
    p.entries.push({ ts: l.ts, line: Buffer.from(l.line) });
    if (p.entries.length === 1000) open.delete(l.stream);
  }
  return out;
}

function mine(pushes: Push[], nowMs: number): { cpu: number; clusters: number; streams: number; skipped: number } {
  const store = new PatternStore({ maxClusters: 300, maxStreams: 10_000, retainForMs: 3 * 3_600_000 });
  const before = process.cpuUsage();
  for (const p of pushes) store.observe('bench', p.canonical, p.labels, p.entries, nowMs);
  const cpu = cpuSeconds(process.cpuUsage(before));
  return { cpu, clusters: store.clusterCount(), streams: store.streamCount, skipped: store.skipped };
}

function floor(lines: { line: string; ts: bigint }[]): number {
  const body = JSON.stringify({ streams: [{ stream: { app: 'x' }, values: lines.map((l) => [String(l.ts), l.line]) }] });
  const raw = Buffer.from(lines.map((l) => l.line).join('\n'));
  const before = process.cpuUsage();
  JSON.parse(body);
  // In 256 KiB pieces, as blocks are cut.
  for (let i = 0; i < raw.length; i += 262_144) compress(raw.subarray(i, i + 262_144));
  return cpuSeconds(process.cpuUsage(before));
}

function report(name: string, lines: { line: string; ts: bigint; stream: number }[], streams: { labels: Record<string, string>; labelString: string }[], nowMs: number) {
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l.line), 0);
  const pushes = pushesOf(lines, streams);
  mine(pushes.slice(0, 50), nowMs); // warm-up
  const m = mine(pushes, nowMs);
  const f = floor(lines);
  const r = {
    name,
    lines: lines.length,
    rawMB: +(bytes / 1e6).toFixed(1),
    minerLinesPerCpuSecond: Math.round(lines.length / m.cpu),
    minerMBPerCpuSecond: +(bytes / 1e6 / m.cpu).toFixed(1),
    floorLinesPerCpuSecond: Math.round(lines.length / f),
    minerShareOfIngest: +(m.cpu / (m.cpu + f)).toFixed(3),
    clusters: m.clusters,
    streams: m.streams,
    skippedLines: m.skipped,
  };
  console.log(JSON.stringify(r));
  return r;
}

const n = Number(arg('lines', '300000'));
const nowMs = Date.now();
const startNs = BigInt(nowMs - 600_000) * 1_000_000n;
const streams = generateStreams(50, 1);
const generated = [...generateLines({ maxLines: n, startNs, meanStepNs: 1_000_000 })];

// Garbage: every line a fresh sequence of random words, no two alike.
const rand = prng(9);
const garbage = generated.map((l) => {
  const words: string[] = [];
  const k = 3 + Math.floor(rand() * 10);
  for (let j = 0; j < k; j++) words.push(Math.floor(rand() * 2 ** 40).toString(36));
  return { stream: l.stream, ts: l.ts, line: words.join(' ') };
});

const results = [report('generated json/logfmt/nginx', generated, streams, nowMs), report('high-cardinality garbage', garbage, streams, nowMs)];
const out = resolve(import.meta.dirname, '../../bench/out');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'patterns.json'), JSON.stringify(results, null, 2));
