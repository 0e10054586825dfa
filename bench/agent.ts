/**
 * Agent throughput and cost: a real `narvi agent` process tails 50 CRI log files that a writer in this process
 * appends to at a fixed rate, pushing to a real `narvi server`. Reports the agent's delivered lines/s, its CPU
 * per 10k lines/s (utime+stime from /proc/<pid>/stat) and peak RSS (VmHWM), beside the in-process ceiling
 * (split + CRI-parse of the same bytes on one core), then one JSON line of figures.
 *
 *   node dist/bench/agent.js [--rate 20000] [--files 50] [--seconds 20]
 *     [--verbose: RSS/buffer trace and heap figures] [--prof DIR: CPU profile of the agent]
 *     [--agent-node-flags '...'] [--snap: heap snapshots, with --agent-node-flags --heapsnapshot-signal=SIGUSR2]
 * Target: ≤ 0.1 core per 10k lines/s, RSS under 100 MB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CriParser } from '../agent/cri.js';
import { LineSplitter } from '../agent/line-splitter.js';
import { formatRFC3339Nano } from '../src/model/time.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RATE = opt('rate', 20_000);
const FILES = opt('files', 50);
const SECONDS = opt('seconds', 20);
const WARMUP_S = 3;
const BIN = resolve(import.meta.dirname, '../src/cli/main.js');
const CLK_TCK = 100;

const profIdx = args.indexOf('--prof');
const PROF_DIR = profIdx >= 0 ? args[profIdx + 1] : undefined;
const flagsIdx = args.indexOf('--agent-node-flags');
const NODE_FLAGS = flagsIdx >= 0 ? args[flagsIdx + 1]!.split(' ').filter(Boolean) : [];

function startProc(argv: string[], nodeFlags: string[] = []): Promise<{ proc: ChildProcess; url: string; out: () => string }> {
  const proc = spawn(process.execPath, [...nodeFlags, BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
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

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function sentEntries(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^narvi_agent_sent_entries_total (\d+)/m.exec(text)?.[1] ?? 0);
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

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'narvi-bench-agent-'));
  const root = join(work, 'pods');
  const server = await startProc(['server', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', '--storage.path', join(work, 'data')]);
  const fds: number[] = [];
  for (let i = 0; i < FILES; i++) {
    const d = join(root, `bench_pod-${i}_uid-${i}`, 'app');
    mkdirSync(d, { recursive: true });
    fds.push(openSync(join(d, '0.log'), 'a'));
  }
  const agent = await startProc([
    'agent', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0',
    '--client.url', `${server.url}/loki/api/v1/push`, '--kubernetes.pods-root', root, '--positions.path', join(work, 'positions.yaml'),
  ], [...(PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : []), ...NODE_FLAGS]);
  const pid = agent.proc.pid!;

  // The writer: every 10 ms, RATE/100 lines spread over the files.
  const perTick = Math.max(1, Math.round(RATE / 100));
  let written = 0;
  let seq = 0;
  const sample: string[] = [];
  const timer = setInterval(() => {
    const ts = formatRFC3339Nano(BigInt(Date.now()) * 1_000_000n);
    const per = new Array<string>(FILES).fill('');
    for (let k = 0; k < perTick; k++) {
      const line = `${ts} stdout F ${payload} seq=${seq++}\n`;
      per[k % FILES] += line;
      if (sample.length < 20_000) sample.push(line);
    }
    for (let i = 0; i < FILES; i++) if (per[i]) writeSync(fds[i]!, per[i]!);
    written += perTick;
  }, 10);

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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
  const sent1 = await sentEntries(agent.url);
  clearInterval(timer);
  const rss = peakRssMb(pid);
  clearInterval(rssTimer);
  if (args.includes('--verbose')) {
    console.log('RSS MB / buffered MB every 500 ms:', rssTrace.join(' '));
    const text = await (await fetch(`${agent.url}/metrics`)).text();
    console.log(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => /^(VmRSS|RssAnon|RssFile|RssShmem|Threads)/.test(l)).join('\n'));
    console.log(text.split('\n').filter((l) => /^narvi_agent_(nodejs_heap_size|nodejs_external|process_resident|nodejs_gc_duration_seconds_(sum|count))/.test(l)).join('\n'));
  }

  const elapsed = (t1 - t0) / 1000;
  const linesPerS = (sent1 - sent0) / elapsed;
  const cores = (cpu1 - cpu0) / CLK_TCK / elapsed;
  const corePer10k = linesPerS > 0 ? cores / (linesPerS / 10_000) : NaN;
  const ceil = ceiling(Buffer.from(sample.join('')));

  agent.proc.kill('SIGTERM');
  server.proc.kill('SIGTERM');
  await Promise.all([new Promise((r) => agent.proc.once('exit', r)), new Promise((r) => server.proc.once('exit', r))]);
  for (const fd of fds) closeSync(fd);
  rmSync(work, { recursive: true, force: true });

  console.log(`agent bench: ${FILES} files, writer at ${RATE} lines/s (${written} written), measured over ${elapsed.toFixed(1)} s after ${WARMUP_S} s warm-up`);
  console.log(`  delivered:        ${linesPerS.toFixed(0)} lines/s`);
  console.log(`  agent CPU:        ${cores.toFixed(3)} cores = ${corePer10k.toFixed(3)} cores per 10k lines/s (target ≤ 0.1)`);
  console.log(`  agent peak RSS:   ${rss.toFixed(1)} MB (target < 100)`);
  console.log(`  ceiling:          ${ceil.toFixed(0)} lines/s split+parse on one core in-process (no I/O, no push)`);
  console.log(
    JSON.stringify({
      bench: 'agent',
      files: FILES,
      rate: RATE,
      seconds: elapsed,
      lines_per_s: Math.round(linesPerS),
      cores: Number(cores.toFixed(4)),
      cores_per_10k_lines_per_s: Number(corePer10k.toFixed(4)),
      peak_rss_mb: Number(rss.toFixed(1)),
      ceiling_lines_per_s: Math.round(ceil),
    }),
  );
}

await main();
