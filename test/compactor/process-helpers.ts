import Database from 'better-sqlite3';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isChunkKey } from '../../src/compactor/chunk-key.js';
import { jsonBody, pushJson } from '../helpers/push.js';
import type { RunningServer } from '../helpers/server.js';

/** Every chunk-shaped object under the data directory's store. */
export function chunkFiles(dataDir: string): string[] {
  const root = join(dataDir, 'chunks');
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const key = relative(root, p).split('/').join('/');
        if (isChunkKey(key)) out.push(key);
      }
    }
  };
  walk(root);
  return out.sort();
}

/** The index's chunk refs and the compactor's pending bookkeeping, read the way a second process would. */
export function indexState(dataDir: string): { refs: string[]; pendingWrites: number; pendingDeletes: number } {
  const db = new Database(join(dataDir, 'index', 'index.sqlite'), { readonly: true });
  try {
    const refs = (db.prepare('SELECT key FROM chunks ORDER BY key').pluck().all() as string[]).sort();
    const has = (t: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
    const pendingWrites = has('compactor_writes') ? (db.prepare('SELECT COUNT(*) FROM compactor_writes').pluck().get() as number) : 0;
    const pendingDeletes = has('compactor_deletes') ? (db.prepare('SELECT COUNT(*) FROM compactor_deletes').pluck().get() as number) : 0;
    return { refs, pendingWrites, pendingDeletes };
  } finally {
    db.close();
  }
}

export const BASE_NS = (BigInt(Date.now()) - 3_600_000n) * 1_000_000n;

/**
 * Pushes `rounds` batches to three streams, flushing after each so every round is its own small chunk,
 * and re-sends round 0 after the ingester has forgotten it, so the store holds exact duplicates that
 * queries must merge away. Some entries carry structured metadata.
 */
export async function fillSmallChunks(server: RunningServer, rounds: number, perRound = 40): Promise<void> {
  const batch = (r: number, count = perRound) =>
    jsonBody(
      ['web', 'db', 'cache'].map((app) => ({
        stream: { app, env: 'test' },
        values: Array.from({ length: count }, (_, i): [string, string] | [string, string, Record<string, string>] => {
          const ts = String(BASE_NS + BigInt(r * perRound + i) * 1_000_000_000n);
          const line = `${app} round ${r} line ${i} ${'payload '.repeat(i % 7)}`;
          return i % 5 === 0 ? [ts, line, { trace_id: `t${r}-${i}` }] : [ts, line];
        }),
      })),
    );
  for (let r = 0; r < rounds; r++) {
    const res = await pushJson(server.url, batch(r));
    if (res.status !== 204) throw new Error(`push round ${r}: ${res.status} ${res.body}`);
    const f = await fetch(`${server.url}/flush`, { method: 'POST' });
    if (f.status !== 204) throw new Error(`flush: ${f.status}`);
    if (r === 4) {
      // Half of round 0 again: its chunks left the ingester's duplicate memory two flushes ago. (All of
      // it would make byte-identical chunks, which land on the same key.)
      const again = await pushJson(server.url, batch(0, perRound / 2));
      if (again.status !== 204) throw new Error(`re-push: ${again.status} ${again.body}`);
      await fetch(`${server.url}/flush`, { method: 'POST' });
    }
  }
}

/** Every entry query_range returns for the three streams, as sorted strings, plus the raw count. */
export async function queryAll(server: RunningServer): Promise<{ lines: string[]; count: number }> {
  const q = new URLSearchParams({ query: '{env="test"}', start: String(BASE_NS - 1_000_000_000n), end: String(BASE_NS + 3_600_000_000_000n), limit: '100000', direction: 'forward' });
  const res = await fetch(`${server.url}/loki/api/v1/query_range?${q}`);
  if (res.status !== 200) throw new Error(`query_range: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { data: { result: { stream: Record<string, string>; values: unknown[][] }[] } };
  const lines: string[] = [];
  for (const s of body.data.result) for (const v of s.values) lines.push(`${JSON.stringify(s.stream)} ${JSON.stringify(v)}`);
  return { lines: lines.sort(), count: lines.length };
}

export async function runCompactor(server: RunningServer): Promise<{ status: number; report: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/compactor/run`, { method: 'POST' });
  const text = await res.text();
  return { status: res.status, report: JSON.parse(text) as Record<string, unknown> };
}
