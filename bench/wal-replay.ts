/**
 * WAL replay (issue #11, point 6): how fast a restart reads a large WAL, and in how much memory.
 *
 *  1. A real server with flushing and checkpoints off takes ~`--gb` of WAL through pushes (4 clients,
 *     100 streams, protobuf, access-log lines with varying fields).
 *  2. kill -9.
 *  3. The server restarts on the same directory with ingester.max_unflushed_bytes = `--budget`: the time to
 *     /ready, the replay time it logs, its CPU seconds and its peak RSS (VmHWM from /proc) at ready.
 *
 * The ceiling beside it: this process reading the same WAL files and checking every frame's CRC32 (what
 * replay must do at least), in MB per CPU second.
 *
 *   node dist/bench/wal-replay.js [--gb 1] [--budget 128MB] [--keep] [--from DIR]
 *
 * --keep keeps a copy of the filled WAL (printed), --from DIR replays a copy of it instead of filling one.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import snappy from 'snappyjs';
import { encodePushRequest } from '../src/model/push-proto.js';
import { nowNs } from '../src/model/time.js';
import { dirBytes } from './lib/disk.js';
import { cpuSeconds, peakRss } from './lib/process-stats.js';
import { startBenchServer } from './lib/server.js';

const MiB = 2 ** 20;
const BIN = resolve(import.meta.dirname, '../src/cli/main.js');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

/** Nothing is flushed or checkpointed while the WAL is written: everything pushed stays in it. */
const NO_FLUSH = [
  '--ingester.chunk-idle-period', '24h',
  '--ingester.max-chunk-age', '24h',
  '--ingester.flush-check-period', '1h',
  '--ingester.wal.checkpoint-duration', '0',
  '--ingester.wal.checkpoint-size', '0',
  '--limits.ingestion-rate-mb', '0',
];

const STREAMS = 100;
const LINES_PER_BATCH = 5000;
const PATHS = ['/api/v1/items', '/api/v1/users', '/healthz', '/static/app.js', '/api/v2/search', '/login'];

function batch(client: number, seq: number): { body: Buffer; rawBytes: number } {
  const base = nowNs();
  const perStream = LINES_PER_BATCH / STREAMS;
  let rawBytes = 0;
  let x = (client * 7919 + seq * 104729) >>> 0;
  const rnd = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  const streams = Array.from({ length: STREAMS }, (_, s) => ({
    labels: `{app="replay", client="c${client}", stream="s${s}", namespace="ns${s % 7}"}`,
    entries: Array.from({ length: perStream }, (_, i) => {
      const line = `ts=${base + BigInt(i)} level=${rnd() % 20 === 0 ? 'error' : 'info'} client=${client} trace=${rnd().toString(16)}${rnd().toString(16)} msg="request served" method=${rnd() % 5 === 0 ? 'POST' : 'GET'} path=${PATHS[rnd() % PATHS.length]}/${rnd() % 1000} status=${rnd() % 50 === 0 ? 500 : 200} bytes=${rnd() % 50000} duration_ms=${rnd() % 2000}`;
      rawBytes += line.length;
      return { ts: base + BigInt(s * perStream + i), line };
    }),
  }));
  return { body: Buffer.from(snappy.compress(Buffer.from(encodePushRequest(streams)))), rawBytes };
}

async function fillWal(gb: number): Promise<{ dataDir: string; rawGB: number; seconds: number }> {
  // fsync per push costs the fill phase time and changes nothing about what is replayed.
  const server = await startBenchServer(['--ingester.max-unflushed-bytes', '0', '--ingester.wal.sync', 'never', ...NO_FLUSH]);
  const walDir = join(server.dataDir, 'wal');
  const t0 = performance.now();
  let raw = 0;
  let stop = false;
  let checked = 0;
  const client = async (c: number) => {
    for (let seq = 0; !stop; seq++) {
      const { body, rawBytes } = batch(c, seq);
      const r = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      const text = await r.text();
      if (r.status !== 204) throw new Error(`push answered ${r.status}: ${text}`);
      raw += rawBytes;
      // The WAL's size on disk decides when to stop; stat it every ~50 MB of lines.
      if (raw - checked > 50e6) {
        checked = raw;
        if (dirBytes(walDir) >= gb * 1e9) stop = true;
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(client));
  const seconds = (performance.now() - t0) / 1000;
  server.proc.kill('SIGKILL');
  await new Promise((r) => server.proc.once('exit', r));
  return { dataDir: server.dataDir, rawGB: raw / 1e9, seconds };
}

/** Reads every WAL file and checks every frame's CRC: the least a replay must do. */
function ceiling(walDir: string): { mb: number; cpuSeconds: number } {
  const start = process.cpuUsage();
  let bytes = 0;
  for (const f of readdirSync(walDir).sort()) {
    const buf = readFileSync(join(walDir, f));
    bytes += buf.length;
    for (let p = 0; p + 8 <= buf.length; ) {
      const len = buf.readUInt32LE(p);
      if (p + 8 + len > buf.length) break;
      if (crc32(buf.subarray(p + 8, p + 8 + len)) !== buf.readUInt32LE(p + 4)) throw new Error(`bad frame in ${f} at ${p}`);
      p += 8 + len;
    }
  }
  const u = process.cpuUsage(start);
  return { mb: bytes / 1e6, cpuSeconds: (u.user + u.system) / 1e6 };
}

async function restart(dataDir: string, budget: string) {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...nodeArgs, BIN, 'server', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', '--storage.path', dataDir, '--ingester.max-unflushed-bytes', budget, ...NO_FLUSH], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => proc.once('exit', r));
  let url = '';
  for (;;) {
    const m = /msg="listening"[^\n]*address=(http:\/\/[^\s]+)/.exec(out);
    if (m) url = m[1]!;
    if (url) {
      const r = await fetch(`${url}/ready`).catch(() => null);
      if (r?.status === 200) break;
    }
    if (proc.exitCode !== null) throw new Error(`server exited: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const readySeconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(proc.pid!);
  const peak = peakRss(proc.pid!);
  const replay = /msg="WAL replayed" records=(\d+) files=(\d+) bytes=(\d+).* flushed_during_replay=(\d+) ms=(\d+) cpu_ms=(\d+)/.exec(out);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const memoryChunks = Number(/narvi_ingester_chunks_flushed_total\{reason="memory"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  proc.kill('SIGTERM');
  await exited;
  if (!replay) throw new Error(`no replay line in the server log:\n${out}`);
  return {
    budget,
    readySeconds,
    replaySeconds: Number(replay[5]) / 1000,
    /** CPU the replay itself used (the server logs it): the figure per core. */
    replayCpuSeconds: Number(replay[6]) / 1000,
    records: Number(replay[1]),
    walMB: Number(replay[3]) / 1e6,
    cpuSecondsAtReady: cpu,
    peakRssMiB: peak / MiB,
    flushesDuringReplay: Number(replay[4]),
    chunksFlushedForMemory: memoryChunks,
  };
}

async function main(): Promise<void> {
  const gb = Number(arg('gb', '1'));
  const budget = arg('budget', '128MB');
  // --from DIR replays a copy of a WAL kept by an earlier --keep run (for profiling the replay alone).
  const from = arg('from', '');
  let fill: { dataDir: string; rawGB: number; seconds: number };
  if (from) {
    const dataDir = mkdtempSync(join(tmpdir(), 'narvi-bench-'));
    cpSync(join(from, 'wal'), join(dataDir, 'wal'), { recursive: true });
    fill = { dataDir, rawGB: NaN, seconds: 0 };
  } else {
    fill = await fillWal(gb);
    if (process.argv.includes('--keep')) {
      const copy = `${fill.dataDir}-wal-kept`;
      cpSync(join(fill.dataDir, 'wal'), join(copy, 'wal'), { recursive: true });
      process.stdout.write(`kept a copy of the WAL for --from: ${copy}\n`);
    }
  }
  const walDir = join(fill.dataDir, 'wal');
  const walMB = dirBytes(walDir) / 1e6;
  if (!from) process.stdout.write(`wrote ${walMB.toFixed(0)} MB of WAL (${fill.rawGB.toFixed(2)} GB of lines) in ${fill.seconds.toFixed(0)} s; killed with SIGKILL\n`);
  const ceil = ceiling(walDir);
  // A copy of the directory per run would double the disk: the bounded run goes first (it flushes chunks
  // and checkpoints, so the WAL is gone after it).
  const bounded = await restart(fill.dataDir, budget);
  const perCore = bounded.walMB / bounded.replayCpuSeconds;
  process.stdout.write(
    [
      `restart with ingester.max_unflushed_bytes=${budget}: /ready after ${bounded.readySeconds.toFixed(1)} s (replay ${bounded.replaySeconds.toFixed(1)} s of it), ${bounded.records} records`,
      `  replay ${perCore.toFixed(0)} MB of WAL per CPU second (${bounded.replayCpuSeconds.toFixed(1)} CPU s; ${(bounded.walMB / bounded.replaySeconds).toFixed(0)} MB/s wall-clock on this shared machine; ${bounded.cpuSecondsAtReady.toFixed(1)} CPU s for the whole start)`,
      `  peak RSS ${bounded.peakRssMiB.toFixed(0)} MiB for ${bounded.walMB.toFixed(0)} MB of WAL; ${bounded.flushesDuringReplay} memory flushes during replay wrote ${bounded.chunksFlushedForMemory} chunks`,
      `ceiling (read + CRC32 every frame in this process): ${(ceil.mb / ceil.cpuSeconds).toFixed(0)} MB per CPU second`,
    ].join('\n') + '\n',
  );
  const out = resolve(import.meta.dirname, '../../bench/out');
  mkdirSync(out, { recursive: true });
  const result = { bench: 'wal-replay', walMB, linesGB: fill.rawGB, fillSeconds: fill.seconds, bounded, replayMBPerCpuSecond: perCore, ceilingMBPerCpuSecond: ceil.mb / ceil.cpuSeconds };
  writeFileSync(join(out, 'wal-replay.json'), JSON.stringify(result, null, 2));
  process.stdout.write(JSON.stringify(result) + '\n');
  rmSync(fill.dataDir, { recursive: true, force: true });
}

await main();
