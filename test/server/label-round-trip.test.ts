import protobuf from 'protobufjs';
import { Prng } from '../helpers/prng.js';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalLabels, wellFormed } from '../../src/model/labels.js';
import { jsonBody, nowNs, pushJson, pushProto } from '../helpers/push.js';
import { removeDir, startServer, tempDir, type RunningServer, serverSlot } from '../helpers/server.js';

/**
 * Every label value and structured-metadata pair that is acknowledged reads back byte for byte, as the
 * same stream, after kill -9 and WAL replay, after a flush, and after a restart from chunks.
 */

/** Seeded so a failure can be replayed: the seed is in the test name. */
const rng = (seed: number): (() => number) => {
  const p = new Prng(seed);
  return () => p.next();
};

const NASTY = ['\r', '\n', '\t', '\b', '\f', '\v', '\u0000', '\u0001', '\u001f', '\u007f', '"', '\\', "'", '`', '{', '}', ',', '=', ' ', 'é', '日本', '😀', '\u2028', '\ufffd', '\ud800', '\udc00', '\\u0041', '\\x41', '\\101', '\\r', '\\'];

function randomValue(r: () => number): string {
  const n = 1 + Math.floor(r() * 10);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.55) s += NASTY[Math.floor(r() * NASTY.length)]!;
    else if (k < 0.85) s += String.fromCharCode(32 + Math.floor(r() * 95));
    else s += String.fromCharCode(1 + Math.floor(r() * 0xfffe));
  }
  if (r() < 0.05) s += 'y'.repeat(1900);
  return s;
}

/**
 * protobufjs writes a short string's lone surrogate as the three bytes of its code unit (not UTF-8); the server reads
 * invalid UTF-8 as U+FFFD per maximal bad sequence, at decode time, so that is what is acknowledged.
 */
function protobufBytesAsRead(s: string): string {
  // protobufjs's node writer hands strings of 40 code units or more to Buffer, which writes U+FFFD itself.
  if (s.length >= 40) return wellFormed(s);
  const b = new Uint8Array(protobuf.util.utf8.length(s));
  protobuf.util.utf8.write(s, b, 0);
  return Buffer.from(b).toString('utf8');
}

interface Case {
  door: 'json' | 'protobuf';
  /** What the client sends. */
  sent: Record<string, string>;
  meta: Record<string, string>;
  /** What must read back: the labels and metadata merged, as Loki answers without categorize-labels. */
  expected: Record<string, string>;
}

function makeCases(seed: number, n: number): Case[] {
  const r = rng(seed);
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    const door = i % 2 === 0 ? 'json' : 'protobuf';
    const sent: Record<string, string> = Object.create(null) as Record<string, string>;
    sent.rt = `c${seed}-${i}`;
    sent.v = randomValue(r);
    if (r() < 0.5) sent.w = randomValue(r);
    if (i % 5 === 0) sent.v = 'x\ry'; // the value from the issue, on both doors
    if (i % 7 === 0) sent['__proto__'] = randomValue(r);
    if (i % 6 === 0) sent.e = ''; // an empty value is no label, on every door and after every restart
    const meta: Record<string, string> = Object.create(null) as Record<string, string>;
    meta.trace = randomValue(r);
    if (r() < 0.3) meta['__proto__'] = randomValue(r);
    const expected: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(sent)) if (v !== '') expected[k] = wellFormed(v);
    // Metadata named like a stream label reads back with the `_extracted` suffix, as in Loki.
    for (const [k, v] of Object.entries(meta)) expected[k in sent ? `${k}_extracted` : k] = door === 'json' ? wellFormed(v) : protobufBytesAsRead(v);
    out.push({ door, sent, meta, expected });
  }
  return out;
}

async function push(url: string, c: Case, ts: bigint, line: string): Promise<void> {
  const res =
    c.door === 'json'
      ? await pushJson(url, jsonBody([{ stream: c.sent, values: [[ts.toString(), line, c.meta]] }]))
      : await pushProto(url, [{ labels: canonicalLabels(c.sent), entries: [{ ts, line, metadata: c.meta }] }]);
  expect(res.status, `${c.door} push of ${JSON.stringify(c.sent)}: ${res.body}`).toBe(204);
}

interface StreamOut {
  stream: Record<string, string>;
  values: [string, string][];
}

async function queryStreams(url: string, selector: string): Promise<StreamOut[]> {
  const qs = new URLSearchParams({ query: selector, start: String(nowNs(-3_600_000)), end: String(nowNs(60_000)), limit: '1000', direction: 'forward' });
  const res = await fetch(`${url}/loki/api/v1/query_range?${qs}`);
  const text = await res.text();
  expect(res.status, `${selector}: ${text}`).toBe(200);
  return (JSON.parse(text) as { data: { result: StreamOut[] } }).data.result;
}

/** A LogQL selector for the exact label set: JSON string literals are valid Go string literals. */
function exactSelector(labels: Record<string, string>): string {
  return '{' + Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') + '}';
}

async function checkAll(url: string, cases: Case[], lines: number, stage: string): Promise<void> {
  for (const c of cases) {
    const byId = await queryStreams(url, `{rt=${JSON.stringify(c.sent.rt)}}`);
    expect(byId.length, `${stage}: ${c.door} ${JSON.stringify(c.sent)} should be one stream, got ${JSON.stringify(byId.map((s) => s.stream))}`).toBe(1);
    const got = byId[0]!;
    expect({ ...got.stream }, `${stage}: labels of ${c.door} ${JSON.stringify(c.sent)}`).toEqual({ ...c.expected });
    expect(got.values.length, stage).toBe(lines);
    // The original selector still finds it (the issue: after replay it found nothing).
    const exact = await queryStreams(url, exactSelector(Object.fromEntries(Object.entries(c.sent).filter(([k]) => k !== '__proto__').map(([k, v]) => [k, wellFormed(v)]))));
    expect(exact.length, `${stage}: exact selector for ${JSON.stringify(c.sent)}`).toBe(1);
  }
}

const slot = serverSlot();

describe('label and metadata round trips', () => {
  it('keep every accepted value and the stream identity through kill -9, replay, flush and restart', async () => {
    const dataDir = tempDir();
    slot.keep(dataDir);
    const cases = makeCases(7, 40);
    const base = nowNs(-60_000);
    slot.server = await startServer({ dataDir });
    for (const [i, c] of cases.entries()) await push(slot.server.url, c, base + BigInt(i), `first ${i}`);
    await checkAll(slot.server.url, cases, 1, 'before the crash');

    await slot.server.kill();
    slot.server = await startServer({ dataDir });
    await checkAll(slot.server.url, cases, 1, 'after kill -9 and WAL replay');
    // New pushes with the original labels land in the same stream, not in an altered one.
    for (const [i, c] of cases.entries()) await push(slot.server.url, c, base + 1000n + BigInt(i), `second ${i}`);
    await checkAll(slot.server.url, cases, 2, 'after pushing again post-replay');

    expect((await fetch(`${slot.server.url}/flush`, { method: 'POST' })).status).toBe(204);
    await checkAll(slot.server.url, cases, 2, 'after a flush');
    for (const [i, c] of cases.entries()) await push(slot.server.url, c, base + 2000n + BigInt(i), `third ${i}`);
    await slot.server.kill();
    slot.server = await startServer({ dataDir });
    await checkAll(slot.server.url, cases, 3, 'after flush, more pushes, kill -9 (chunks + checkpoint + WAL)');
    expect(await slot.server.stop()).toBe(0);
    slot.server = await startServer({ dataDir });
    await checkAll(slot.server.url, cases, 3, 'after a clean restart from the shutdown checkpoint');

    // The label values API returns the stored values exactly.
    const res = await fetch(`${slot.server.url}/loki/api/v1/label/v/values?start=${nowNs(-3_600_000)}&end=${nowNs(60_000)}`);
    const values = new Set((await res.json() as { data: string[] }).data);
    for (const c of cases) if (c.expected.v) expect(values.has(c.expected.v), JSON.stringify(c.expected.v)).toBe(true);
  }, 180_000);
});
