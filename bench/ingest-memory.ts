/**
 * Ingest memory (issue #10, point 8): the server's RSS
 *  1. around one 100 MB JSON push of tiny entries (before, peak, and settled after), and
 *  2. over time while four clients push compressible batches (40 streams, JSON and protobuf) as fast as
 *     the server takes them — 2 GB of lines by default — with default settings except the ingestion rate
 *     limit (off). It must plateau: the last third's peak is compared with the middle third's, and the
 *     peak over each tenth of the data is printed. WAL disk bytes, unflushed bytes and 429s
 *     (ingester.max_unflushed_bytes, distributor.max_inflight_push_bytes) are sampled beside it.
 *     `--seconds` is a safety cap: a run that hits it says so.
 *
 *   node dist/bench/ingest-memory.js [--push-mb 100] [--gb 2] [--seconds 600]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import snappy from 'snappyjs';
import { encodePushRequest } from '../src/model/push-proto.js';
import { nowNs } from '../src/model/time.js';
import { dirBytes } from './lib/disk.js';
import { startBenchServer, type BenchServer } from './lib/server.js';
import { tinyEntriesBody } from './lib/dataset.js';

const MiB = 2 ** 20;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

function mem(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function metric(server: BenchServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

async function bigPush(mb: number) {
  const server = await startBenchServer(['--limits.ingestion-rate-mb', '0']);
  const { body, entries } = tinyEntriesBody(mb * 1e6, nowNs() - 60_000_000_000n);
  const before = mem(server.pid);
  const t0 = performance.now();
  const r = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const status = r.status;
  await r.text();
  const seconds = (performance.now() - t0) / 1000;
  const rightAfter = mem(server.pid);
  await new Promise((res) => setTimeout(res, 5000));
  const settled = mem(server.pid);
  await server.stop();
  return {
    bodyMB: body.length / 1e6,
    entries,
    status,
    seconds,
    rssBeforeMiB: before.rss / MiB,
    peakRssMiB: settled.hwm / MiB,
    rssRightAfterMiB: rightAfter.rss / MiB,
    rssAfter5sMiB: settled.rss / MiB,
    rssAfterOverBody: settled.rss / body.length,
  };
}

const STREAMS = 40;
const LINES_PER_BATCH = 4000;

/** One ~1 MB batch over the 40 streams: compressible access-log lines with fresh timestamps. */
function batch(client: number, seq: number, protobuf: boolean): { body: Buffer; rawBytes: number } {
  const base = nowNs();
  const perStream = LINES_PER_BATCH / STREAMS;
  let rawBytes = 0;
  const streams = Array.from({ length: STREAMS }, (_, s) => {
    const entries = Array.from({ length: perStream }, (_, i) => {
      const line = `ts=${seq} level=info client=${client} msg="request served" method=GET path=/api/v1/items/${i % 50} status=200 bytes=${(i * 37) % 5000} duration_ms=${i % 97}`;
      rawBytes += line.length;
      return { ts: base + BigInt(i), line };
    });
    return { labels: `{app="load", client="c${client}", stream="s${s}"}`, stream: { app: 'load', client: `c${client}`, stream: `s${s}` }, entries };
  });
  if (protobuf) return { body: Buffer.from(snappy.compress(Buffer.from(encodePushRequest(streams.map((s) => ({ labels: s.labels, entries: s.entries })))))), rawBytes };
  const json = { streams: streams.map((s) => ({ stream: s.stream, values: s.entries.map((e) => [e.ts.toString(), e.line]) })) };
  return { body: Buffer.from(JSON.stringify(json)), rawBytes };
}

async function sustained(totalGB: number, maxSeconds: number) {
  const server = await startBenchServer(['--limits.ingestion-rate-mb', '0']);
  const t0 = performance.now();
  let raw = 0;
  let pushes = 0;
  let refused = 0;
  let stop = false;
  const samples: { s: number; rssMiB: number; walMiB: number; unflushedMiB: number; rawGB: number }[] = [];
  const sampler = setInterval(() => {
    void metric(server, 'narvi_ingester_unflushed_bytes').then((u) => {
      samples.push({ s: Math.round((performance.now() - t0) / 1000), rssMiB: mem(server.pid).rss / MiB, walMiB: dirBytes(join(server.dataDir, 'wal')) / MiB, unflushedMiB: u / MiB, rawGB: raw / 1e9 });
    });
  }, 1000);
  const client = async (c: number) => {
    for (let seq = 0; !stop; seq++) {
      const protobuf = (c + seq) % 2 === 0;
      const { body, rawBytes } = batch(c, seq, protobuf);
      for (;;) {
        const r = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json' }, body });
        await r.text();
        if (r.status === 204) break;
        if (r.status !== 429) throw new Error(`push answered ${r.status}`);
        refused++;
        await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after') ?? 1) * 1000));
      }
      pushes++;
      raw += rawBytes;
      if (raw >= totalGB * 1e9 || performance.now() - t0 >= maxSeconds * 1000) stop = true;
    }
  };
  await Promise.all([0, 1, 2, 3].map(client));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const peak = mem(server.pid).hwm / MiB;
  await server.stop();
  const third = Math.floor(samples.length / 3);
  const max = (xs: typeof samples) => Math.max(...xs.map((x) => x.rssMiB));
  // Peak RSS over each tenth of the data pushed: a plateau is a flat tail here.
  const total = raw / 1e9;
  const tenths = Array.from({ length: 10 }, (_, k) => {
    const inTenth = samples.filter((x) => x.rawGB > (k * total) / 10 && x.rawGB <= ((k + 1) * total) / 10);
    return { uptoGB: ((k + 1) * total) / 10, maxRssMiB: inTenth.length > 0 ? max(inTenth) : NaN };
  });
  return {
    seconds,
    targetGB: totalGB,
    reachedTarget: raw >= totalGB * 1e9,
    rawGB: raw / 1e9,
    rawMBPerSecond: raw / 1e6 / seconds,
    pushes,
    refused429: refused,
    peakRssMiB: peak,
    middleThirdMaxRssMiB: max(samples.slice(third, 2 * third)),
    lastThirdMaxRssMiB: max(samples.slice(2 * third)),
    maxWalMiB: Math.max(...samples.map((x) => x.walMiB)),
    maxUnflushedMiB: Math.max(...samples.map((x) => x.unflushedMiB)),
    plateaus: max(samples.slice(2 * third)) <= max(samples.slice(third, 2 * third)) * 1.1,
    tenths,
    samples: samples.filter((_, i) => i % 5 === 0),
  };
}

async function main(): Promise<void> {
  const push = await bigPush(Number(arg('push-mb', '100')));
  process.stdout.write(
    `one ${push.bodyMB.toFixed(0)} MB JSON push of ${push.entries} tiny entries: ${push.status} in ${push.seconds.toFixed(1)} s; RSS ${push.rssBeforeMiB.toFixed(0)} MiB before, peak ${push.peakRssMiB.toFixed(0)} MiB, ${push.rssRightAfterMiB.toFixed(0)} MiB right after, ${push.rssAfter5sMiB.toFixed(0)} MiB 5 s later (${push.rssAfterOverBody.toFixed(2)}× the body; issue #10 measured 1.7 GB)\n`,
  );
  const load = await sustained(Number(arg('gb', '2')), Number(arg('seconds', '600')));
  process.stdout.write(
    [
      `sustained push, 4 clients × 40 streams, JSON and protobuf: ${load.rawGB.toFixed(2)} GB of lines in ${load.seconds.toFixed(0)} s (${load.rawMBPerSecond.toFixed(1)} MB/s), ${load.pushes} pushes, ${load.refused429} answered 429${load.reachedTarget ? '' : ` — stopped by --seconds before ${load.targetGB} GB`}`,
      `  RSS peak ${load.peakRssMiB.toFixed(0)} MiB; max over the middle third ${load.middleThirdMaxRssMiB.toFixed(0)} MiB, over the last third ${load.lastThirdMaxRssMiB.toFixed(0)} MiB: ${load.plateaus ? 'plateaus' : 'STILL GROWING'}`,
      `  RSS peak per tenth of the data: ${load.tenths.map((t) => `${t.uptoGB.toFixed(1)} GB ${t.maxRssMiB.toFixed(0)}`).join(', ')} (MiB)`,
      `  WAL on disk at most ${load.maxWalMiB.toFixed(0)} MiB; unflushed data at most ${load.maxUnflushedMiB.toFixed(0)} MiB`,
      ...load.samples.map((x) => `  t=${String(x.s).padStart(3)} s  RSS ${x.rssMiB.toFixed(0).padStart(5)} MiB  WAL ${x.walMiB.toFixed(0).padStart(5)} MiB  unflushed ${x.unflushedMiB.toFixed(0).padStart(4)} MiB  pushed ${x.rawGB.toFixed(2)} GB`),
    ].join('\n') + '\n',
  );
  const out = resolve(import.meta.dirname, '../../bench/out');
  mkdirSync(out, { recursive: true });
  const result = { bench: 'ingest-memory', push, load };
  writeFileSync(join(out, 'ingest-memory.json'), JSON.stringify(result, null, 2));
  process.stdout.write(JSON.stringify({ bench: 'ingest-memory', push, load: { ...load, samples: undefined } }) + '\n');
}

await main();
