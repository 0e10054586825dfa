/** The known data the end-to-end CLI tests query: four streams under env="test", pushed to a real server. */
import { canonicalLabels } from '../../src/model/labels.js';
import { jsonBody, pushJson } from '../helpers/push.js';

export interface Row {
  labels: Record<string, string>;
  key: string;
  ts: bigint;
  line: string;
}

const S = 1_000_000_000n;

export function buildDataset(base: bigint): Row[] {
  const rows: Row[] = [];
  const add = (labels: Record<string, string>, ts: bigint, line: string) => rows.push({ labels, key: canonicalLabels(labels), ts, line });
  for (let i = 0; i < 40; i++) add({ app: 'api', env: 'test', level: 'info' }, base + BigInt(i) * S, `api info line=${i}`);
  for (let i = 0; i < 10; i++) add({ app: 'api', env: 'test', level: 'error' }, base + BigInt(i) * 4n * S + S / 2n, `api error line=${i} msg=timeout`);
  for (let i = 0; i < 20; i++) add({ app: 'web', env: 'test', level: 'info' }, base + BigInt(i) * 2n * S + S / 4n, `web info line=${i}`);
  // 25 entries on one nanosecond: paging must cross this boundary without repeating or losing any.
  for (let i = 0; i < 25; i++) add({ app: 'same', env: 'test' }, base + 100n * S + 123_456_789n, `same ts ${String(i).padStart(2, '0')}`);
  return rows;
}

export async function pushDataset(url: string, rows: Row[], tenant?: string): Promise<void> {
  const byStream = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
  for (const r of rows) {
    let s = byStream.get(r.key);
    if (!s) byStream.set(r.key, (s = { stream: r.labels, values: [] }));
    s.values.push([r.ts.toString(), r.line]);
  }
  const res = await pushJson(url, jsonBody([...byStream.values()]), tenant ? { tenant } : {});
  if (res.status !== 204) throw new Error(`push answered ${res.status}: ${res.body}`);
}

/** Expected order of a read: by time in the direction, ties by stream, then by line. */
export function ordered(rows: Row[], direction: 'forward' | 'backward'): Row[] {
  const sign = direction === 'forward' ? 1 : -1;
  return [...rows].sort((a, b) => (a.ts !== b.ts ? (a.ts < b.ts ? -sign : sign) : a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.line < b.line ? -1 : 1));
}

/** The default printer's time column in UTC. */
export function utcMs(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

export function nsToRFC3339Nano(ns: bigint): string {
  const base = new Date(Number(ns / S) * 1000).toISOString().slice(0, 19);
  const frac = ns % S;
  return base + (frac === 0n ? '' : '.' + frac.toString().padStart(9, '0').replace(/0+$/, '')) + 'Z';
}
