/**
 * Agent throughput and cost: a real `narvi agent` process tails 50 CRI log files that a writer in this process
 * appends to at a fixed rate, pushing to a real `narvi server`. Reports the agent's delivered lines/s, its CPU
 * per 10k lines/s (utime+stime from /proc/<pid>/stat) and peak RSS (VmHWM), beside the in-process ceiling
 * (split + CRI-parse of the same bytes on one core), then one JSON line of figures.
 *
 * Two runs, each with a fresh server and agent: the files only grow (plain), then the same under kubelet-style
 * rotation: every --rotate-every, each file (staggered over the period) is renamed `0.log` →
 * `0.log.<YYYYMMDD-HHMMSS>` (not a `*.log` name, so not tailed), the writer keeps appending to the renamed file
 * for one more 10 ms tick (the runtime reopens its log only after the kubelet asks), then a new `0.log` is
 * created; the newest --rotate-keep rotated files are kept and older ones deleted. After each run the writer
 * stops and the bench waits (bounded by --drain-timeout) for the agent's narvi_agent_sent_entries_total to reach
 * the lines written, then prints lost/extra lines.
 *
 *   node dist/bench/agent.js [--rate 20000] [--files 50] [--seconds 20] [--rotate-every 3s] [--rotate-keep 5]
 *     [--only plain|rotation] [--drain-timeout 30s]
 *     [--verbose: RSS/buffer trace and heap figures] [--prof DIR: CPU profile of the agent]
 *     [--agent-node-flags '...'] [--snap: heap snapshots, with --agent-node-flags --heapsnapshot-signal=SIGUSR2]
 * Target: ≤ 0.1 core per 10k lines/s, RSS under 100 MB; under rotation, no line lost or sent twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CriParser } from '../agent/cri.js';
import { LineSplitter } from '../agent/line-splitter.js';
import { formatRFC3339Nano } from '../src/model/time.js';
import { benchTempDir, killOnExit } from './lib/cleanup.js';

const args = process.argv.slice(2);
const str = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const opt = (name: string, def: number) => {
  const v = str(name);
  return v !== undefined ? Number(v) : def;
};
/** `3s`, `500ms`, `1m`, or a bare number of seconds. */
const durOpt = (name: string, def: string): number => {
  const v = str(name) ?? def;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  if (!m) throw new Error(`--${name}: expected a duration like 3s or 500ms, got ${JSON.stringify(v)}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
};
const RATE = opt('rate', 20_000);
const FILES = opt('files', 50);
const SECONDS = opt('seconds', 20);
const ROTATE_EVERY_MS = durOpt('rotate-every', '3s');
const ROTATE_KEEP = opt('rotate-keep', 5);
const DRAIN_TIMEOUT_MS = durOpt('drain-timeout', '30s');
const ONLY = str('only');
if (ONLY !== undefined && ONLY !== 'plain' && ONLY !== 'rotation') throw new Error(`--only: plain or rotation, got ${JSON.stringify(ONLY)}`);
if (ONLY === 'rotation' && ROTATE_EVERY_MS <= 0) throw new Error('--only rotation needs --rotate-every > 0');
const WARMUP_S = 3;
const BIN = resolve(import.meta.dirname, '../src/cli/main.js');
const CLK_TCK = 100;
const TARGET_CORES_PER_10K = 0.1;
const TARGET_RSS_MB = 100;

const profIdx = args.indexOf('--prof');
const PROF_DIR = profIdx >= 0 ? args[profIdx + 1] : undefined;
const flagsIdx = args.indexOf('--agent-node-flags');
const NODE_FLAGS = flagsIdx >= 0 ? args[flagsIdx + 1]!.split(' ').filter(Boolean) : [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startProc(argv: string[], nodeFlags: string[] = []): Promise<{ proc: ChildProcess; url: string; out: () => string }> {
  const proc = spawn(process.execPath, [...nodeFlags, BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no listening line:\n${out}`)), 30_000);
    const check = () => {
      const m = /msg="listening"[^\n]*address=(http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res({ proc, url: m[1]!, out: () => out });
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.once('exit', (c) => rej(new Error(`exited ${c}:\n${out}`)));
  });
}

/** Polls `<url>/ready` until 200 (the agent has discovered its targets), at most 30 s. */
async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${url}/ready`).catch(() => null);
    if (r?.status === 200) return;
    await sleep(50);
  }
  throw new Error(`${url}/ready did not answer 200 within 30 s`);
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Sum of a metric's samples whose label set contains `labels` (e.g. `kind="rename"`), 0 when absent. */
function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if (labels && !(m[1] ?? '').includes(labels)) continue;
    sum += Number(m[2]);
  }
  return sum;
}

function hasMetric(text: string, name: string): boolean {
  return new RegExp(`^# TYPE ${name} `, 'm').test(text);
}

async function sentEntries(url: string): Promise<number> {
  return metric(await metricsText(url), 'narvi_agent_sent_entries_total');
}

const payload = 'level=info msg="request served" method=GET path=/api/v1/items status=200 duration_ms=12 user=alice';

function ceiling(bytes: Buffer): number {
  // What one core does with the same bytes and no I/O: line splitting plus CRI parsing.
  const parser = new CriParser(256_000);
  let n = 0;
  const start = process.hrtime.bigint();
  for (let rep = 0; rep < 5; rep++) {
    const s = new LineSplitter(256_000, () => {});
    s.push(bytes, (raw, a, b) => parser.push(raw, a, b, 0n, () => n++));
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** kubelet's rotated-log suffix: Go layout "20060102-150405" (one-second resolution). */
function kubeletStamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

interface RunResult {
  rotateEveryMs: number;
  elapsed: number;
  /** Lines/s the writer produced during the measured window (its 10 ms timer runs a little late). */
  writtenPerS: number;
  linesPerS: number;
  cores: number;
  corePer10k: number;
  rss: number;
  written: number;
  sent: number;
  lost: number;
  extra: number;
  /** Seconds from the writer's stop until sent == written; undefined when it never got there. */
  caughtUpS: number | undefined;
  rotations: number;
  deleted: number;
  agentRotations: { rename: number; delete: number; truncate: number };
  dropped: number;
  /** The agent's own loss counters, when it exports them. */
  agentLost: { files?: number; bytes?: number };
}

// Lines the writer produced (the first run's), for the in-process ceiling.
const sample: string[] = [];

async function runOnce(rotateEveryMs: number): Promise<RunResult> {
  const work = benchTempDir('narvi-bench-agent-');
  const root = join(work, 'pods');
  const server = await startProc(['server', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', '--storage.path', join(work, 'data')]);
  const dirs: string[] = [];
  const fds: number[] = [];
  for (let i = 0; i < FILES; i++) {
    const d = join(root, `bench_pod-${i}_uid-${i}`, 'app');
    mkdirSync(d, { recursive: true });
    dirs.push(d);
    fds.push(openSync(join(d, '0.log'), 'a'));
  }
  const agent = await startProc([
    'agent', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0',
    '--client.url', `${server.url}/loki/api/v1/push`, '--kubernetes.pods-root', root, '--positions.path', join(work, 'positions.yaml'),
  ], [...(PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : []), ...NODE_FLAGS]);
  const pid = agent.proc.pid!;
  // Every line written must be delivered: start writing once the agent follows the files.
  await waitReady(agent.url);

  // Kubelet-style rotation, file i first at (i+1)/FILES of the period so that rotations are spread out.
  const rotated: string[][] = dirs.map(() => []);
  const nextRotation: number[] = [];
  const reopenDue = new Set<number>();
  let rotations = 0;
  let deleted = 0;
  const start = Date.now();
  if (rotateEveryMs > 0) for (let i = 0; i < FILES; i++) nextRotation.push(start + (rotateEveryMs * (i + 1)) / FILES);
  const reopen = (i: number) => {
    // The runtime reopens its log: a new 0.log at the path.
    closeSync(fds[i]!);
    fds[i] = openSync(join(dirs[i]!, '0.log'), 'a');
    reopenDue.delete(i);
  };
  const rotate = (i: number, now: number) => {
    let name = join(dirs[i]!, `0.log.${kubeletStamp(now)}`);
    for (let n = 1; existsSync(name); n++) name = join(dirs[i]!, `0.log.${kubeletStamp(now)}-${n}`); // periods under 1 s
    renameSync(join(dirs[i]!, '0.log'), name);
    rotations++;
    reopenDue.add(i);
    const list = rotated[i]!;
    list.push(name);
    while (list.length > ROTATE_KEEP) {
      unlinkSync(list.shift()!);
      deleted++;
    }
  };

  // The writer: every 10 ms, RATE/100 lines spread over the files.
  const perTick = Math.max(1, Math.round(RATE / 100));
  let written = 0;
  let seq = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    for (const i of reopenDue) reopen(i);
    if (rotateEveryMs > 0) {
      for (let i = 0; i < FILES; i++) {
        if (now < nextRotation[i]!) continue;
        rotate(i, now);
        nextRotation[i]! += rotateEveryMs;
      }
    }
    const ts = formatRFC3339Nano(BigInt(now) * 1_000_000n);
    const per = new Array<string>(FILES).fill('');
    for (let k = 0; k < perTick; k++) {
      const line = `${ts} stdout F ${payload} seq=${seq++}\n`;
      per[k % FILES] += line;
      if (sample.length < 20_000) sample.push(line);
    }
    // A file rotated this tick still gets this tick's lines through the old descriptor, under its rotated name.
    for (let i = 0; i < FILES; i++) if (per[i]) writeSync(fds[i]!, per[i]!);
    written += perTick;
  }, 10);

  const rssTrace: string[] = [];
  const rssTimer = setInterval(() => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (!m || !args.includes('--verbose')) return;
    void fetch(`${agent.url}/metrics`)
      .then((r) => r.text())
      .then((t) => rssTrace.push(`${Math.round(Number(m[1]) / 1024)}/${Math.round(Number(/^narvi_agent_buffered_bytes (\S+)/m.exec(t)?.[1] ?? 0) / 1e6)}`));
  }, 500);
  await sleep(WARMUP_S * 1000);
  const t0 = Date.now();
  const cpu0 = cpuTicks(pid);
  const written0 = written;
  const sent0 = await sentEntries(agent.url);
  if (args.includes('--snap')) {
    // Heap snapshots of the agent early and late (needs --agent-node-flags --heapsnapshot-signal=SIGUSR2).
    agent.proc.kill('SIGUSR2');
    await sleep(SECONDS * 1000);
    agent.proc.kill('SIGUSR2');
    await sleep(3000);
  } else {
    await sleep(SECONDS * 1000);
  }
  const t1 = Date.now();
  const cpu1 = cpuTicks(pid);
  const written1 = written;
  const sent1 = await sentEntries(agent.url);
  clearInterval(timer);
  for (const i of [...reopenDue]) reopen(i);
  const rss = peakRssMb(pid);
  clearInterval(rssTimer);
  if (args.includes('--verbose')) {
    console.log('RSS MB / buffered MB every 500 ms:', rssTrace.join(' '));
    const text = await metricsText(agent.url);
    console.log(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => /^(VmRSS|RssAnon|RssFile|RssShmem|Threads)/.test(l)).join('\n'));
    console.log(text.split('\n').filter((l) => /^narvi_agent_(nodejs_heap_size|nodejs_external|process_resident|nodejs_gc_duration_seconds_(sum|count))/.test(l)).join('\n'));
  }

  // Delivery: wait for the agent to catch up with everything written, bounded by DRAIN_TIMEOUT_MS; give up
  // earlier when the count stops moving for 10 s (lines are lost), or for 2 s above what was written.
  const stoppedAt = Date.now();
  let sent = await sentEntries(agent.url);
  let lastChange = Date.now();
  let caughtUpS: number | undefined = sent === written ? 0 : undefined;
  while (sent !== written && Date.now() - stoppedAt < DRAIN_TIMEOUT_MS) {
    await sleep(100);
    const s = await sentEntries(agent.url);
    const now = Date.now();
    if (s !== sent) {
      sent = s;
      lastChange = now;
      if (sent === written) caughtUpS = (now - stoppedAt) / 1000;
    } else if (now - lastChange >= (sent > written ? 2_000 : 10_000)) break;
  }
  const finalText = await metricsText(agent.url);
  sent = metric(finalText, 'narvi_agent_sent_entries_total');

  const elapsed = (t1 - t0) / 1000;
  const linesPerS = (sent1 - sent0) / elapsed;
  const cores = (cpu1 - cpu0) / CLK_TCK / elapsed;
  const corePer10k = linesPerS > 0 ? cores / (linesPerS / 10_000) : NaN;

  agent.proc.kill('SIGTERM');
  server.proc.kill('SIGTERM');
  await Promise.all([new Promise((r) => agent.proc.once('exit', r)), new Promise((r) => server.proc.once('exit', r))]);
  for (const fd of fds) closeSync(fd);
  rmSync(work, { recursive: true, force: true });

  return {
    rotateEveryMs,
    elapsed,
    writtenPerS: (written1 - written0) / elapsed,
    linesPerS,
    cores,
    corePer10k,
    rss,
    written,
    sent,
    lost: Math.max(0, written - sent),
    extra: Math.max(0, sent - written),
    caughtUpS,
    rotations,
    deleted,
    agentRotations: {
      rename: metric(finalText, 'narvi_agent_file_rotations_total', 'kind="rename"'),
      delete: metric(finalText, 'narvi_agent_file_rotations_total', 'kind="delete"'),
      truncate: metric(finalText, 'narvi_agent_file_rotations_total', 'kind="truncate"'),
    },
    dropped: metric(finalText, 'narvi_agent_dropped_entries_total'),
    agentLost: {
      files: hasMetric(finalText, 'narvi_agent_unfinished_files_lost_total') ? metric(finalText, 'narvi_agent_unfinished_files_lost_total') : undefined,
      bytes: hasMetric(finalText, 'narvi_agent_lost_bytes_total') ? metric(finalText, 'narvi_agent_lost_bytes_total') : undefined,
    },
  };
}

const met = (ok: boolean) => (ok ? 'met' : 'MISSED');

function lostNote(r: RunResult): string {
  const { files, bytes } = r.agentLost;
  const parts = [files !== undefined ? `${files} files` : '', bytes !== undefined ? `${bytes} bytes` : ''].filter(Boolean);
  return parts.length > 0 ? `; agent counted lost ${parts.join(', ')}` : '';
}

function report(r: RunResult): void {
  const head =
    r.rotateEveryMs > 0
      ? `agent bench under kubelet-style rotation: each file every ${r.rotateEveryMs / 1000} s (0.log → 0.log.<YYYYMMDD-HHMMSS>, new 0.log, newest ${ROTATE_KEEP} kept), ${FILES} files, writer at ${RATE} lines/s`
      : `agent bench: ${FILES} files, writer at ${RATE} lines/s`;
  console.log(`${head} (${r.written} written), measured over ${r.elapsed.toFixed(1)} s after ${WARMUP_S} s warm-up`);
  console.log(`  delivered:        ${r.linesPerS.toFixed(0)} lines/s (writer: ${r.writtenPerS.toFixed(0)} lines/s in the same window)`);
  console.log(`  agent CPU:        ${r.cores.toFixed(3)} cores = ${r.corePer10k.toFixed(3)} cores per 10k lines/s (target ≤ ${TARGET_CORES_PER_10K}: ${met(r.corePer10k <= TARGET_CORES_PER_10K)})`);
  console.log(`  agent peak RSS:   ${r.rss.toFixed(1)} MB (target < ${TARGET_RSS_MB}: ${met(r.rss < TARGET_RSS_MB)})`);
  const caught = r.caughtUpS !== undefined ? `caught up ${r.caughtUpS.toFixed(1)} s after the writer stopped` : `not caught up within ${DRAIN_TIMEOUT_MS / 1000} s of the writer stopping`;
  console.log(`  all delivered:    ${r.lost === 0 && r.extra === 0 ? 'yes' : 'NO'}: ${r.written} written, ${r.sent} sent (narvi_agent_sent_entries_total) → lost ${r.lost}, extra ${r.extra}; ${caught}`);
  if (r.rotateEveryMs > 0 || r.dropped > 0 || r.lost > 0) {
    const a = r.agentRotations;
    console.log(`  rotations:        ${r.rotations} done (${r.deleted} rotated files deleted); agent noticed rename ${a.rename}, delete ${a.delete}, truncate ${a.truncate}; dropped ${r.dropped}${lostNote(r)}`);
  }
}

function figures(r: RunResult) {
  return {
    seconds: r.elapsed,
    lines_per_s: Math.round(r.linesPerS),
    written_per_s: Math.round(r.writtenPerS),
    cores: Number(r.cores.toFixed(4)),
    cores_per_10k_lines_per_s: Number(r.corePer10k.toFixed(4)),
    peak_rss_mb: Number(r.rss.toFixed(1)),
    written: r.written,
    sent: r.sent,
    lost: r.lost,
    extra: r.extra,
    caught_up_s: r.caughtUpS ?? null,
    dropped: r.dropped,
    ...(r.agentLost.files !== undefined ? { agent_lost_files: r.agentLost.files } : {}),
    ...(r.agentLost.bytes !== undefined ? { agent_lost_bytes: r.agentLost.bytes } : {}),
  };
}

async function main(): Promise<void> {
  const plain = ONLY !== 'rotation' ? await runOnce(0) : undefined;
  const rot = ONLY !== 'plain' && ROTATE_EVERY_MS > 0 ? await runOnce(ROTATE_EVERY_MS) : undefined;
  const ceil = ceiling(Buffer.from(sample.join('')));

  for (const r of [plain, rot]) if (r) report(r);
  console.log(`  ceiling:          ${ceil.toFixed(0)} lines/s split+parse on one core in-process (no I/O, no push)`);
  const doc = {
    bench: 'agent',
    files: FILES,
    rate: RATE,
    ...(plain ? figures(plain) : {}),
    ceiling_lines_per_s: Math.round(ceil),
    targets: { cores_per_10k_lines_per_s: TARGET_CORES_PER_10K, peak_rss_mb: TARGET_RSS_MB },
    ...(rot
      ? {
          rotation: {
            rotate_every_s: rot.rotateEveryMs / 1000,
            rotate_keep: ROTATE_KEEP,
            rotations: rot.rotations,
            deleted: rot.deleted,
            agent_rotations: rot.agentRotations,
            ...figures(rot),
          },
        }
      : {}),
  };
  const out = resolve(import.meta.dirname, '../../bench/out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'agent.json'), JSON.stringify(doc, null, 2));
  console.log(JSON.stringify(doc));
}

await main();
