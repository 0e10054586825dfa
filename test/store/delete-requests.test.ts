import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeletionMode } from '../../src/config/config.js';
import { DeleteRequests, deleteRequestMetrics, deleteRequestsPath } from '../../src/store/delete-requests.js';
import { removeDir, tempDir } from '../helpers/server.js';

const HOUR = 3_600_000;

const dirs: string[] = [];
const dbs: { close(): void }[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

function open(opts: { mode?: (t: string) => DeletionMode; now?: () => number; refreshMs?: number; path?: string } = {}) {
  let path = opts.path;
  if (!path) {
    const dir = tempDir('narvi-delreq-');
    dirs.push(dir);
    path = deleteRequestsPath(dir);
  }
  const registry = new Registry();
  const reqs: DeleteRequests = DeleteRequests.open(path, {
    cancelPeriodMs: 24 * HOUR,
    modeOf: opts.mode ?? (() => 'filter-and-delete'),
    now: opts.now,
    refreshMs: opts.refreshMs,
    metrics: deleteRequestMetrics(registry, () => reqs.pendingByTenant()),
  });
  dbs.push(reqs);
  return { reqs, registry, path };
}

describe('DeleteRequests', () => {
  it('hands the compactor only filter-and-delete requests past their cancel period, and marks them processed once', async () => {
    let now = 1_700_000_000_000;
    const modes: Record<string, DeletionMode> = { a: 'filter-and-delete', b: 'filter-only' };
    const { reqs, registry } = open({ now: () => now, mode: (t) => modes[t] ?? 'filter-and-delete' });
    const a1 = reqs.add('a', '{x="1"}', 0, 10);
    now += HOUR;
    const a2 = reqs.add('a', '{x="2"}', 0, 10);
    reqs.add('b', '{x="1"}', 0, 10);
    expect(reqs.processable('a', now)).toEqual([]);
    now += 23 * HOUR;
    expect(reqs.processable('a', now).map((r) => r.id)).toEqual([a1.id]);
    expect(reqs.processable('b', now + 100 * HOUR)).toEqual([]);
    expect(reqs.processable('a', now + HOUR).map((r) => r.id)).toEqual([a1.id, a2.id]);
    expect(reqs.tenants().sort()).toEqual(['a', 'b']);

    expect(reqs.markProcessed([a1.id, a1.id, 'unknown'])).toBe(1);
    expect(reqs.processable('a', now + HOUR).map((r) => r.id)).toEqual([a2.id]);
    expect(reqs.list('a').map((r) => r.status)).toEqual(['processed', 'received']);
    // Processed requests still hide lines (those that were in ingester memory when the compactor ran).
    expect(reqs.active('a').map((r) => r.id)).toEqual([a1.id, a2.id]);
    // Once processed, no cancel can undo it.
    expect(reqs.cancel('a', a1.id, true)).toBe('processed');

    const text = await registry.metrics();
    expect(text).toContain('narvi_compactor_delete_requests_received_total{tenant="a"} 2');
    expect(text).toContain('narvi_compactor_delete_requests_processed_total{tenant="a"} 1');
    expect(text).toContain('narvi_compactor_pending_delete_requests_count{tenant="a"} 1');
    expect(text).toContain('narvi_compactor_pending_delete_requests_count{tenant="b"} 1');
  });

  it('cancels within the cancel period, refuses after it in filter-and-delete mode unless forced', () => {
    let now = 1_700_000_000_000;
    let mode: DeletionMode = 'filter-and-delete';
    const { reqs } = open({ now: () => now, mode: () => mode });
    const r1 = reqs.add('a', '{x="1"}', 0, 10);
    const r2 = reqs.add('a', '{x="2"}', 0, 10);
    expect(reqs.cancel('b', r1.id, false)).toBe('not-found');
    expect(reqs.cancel('a', r1.id, false)).toBe('cancelled');
    expect(reqs.cancel('a', r1.id, false)).toBe('not-found');
    now += 25 * HOUR;
    expect(reqs.cancel('a', r2.id, false)).toBe('past-cancel-period');
    mode = 'filter-only';
    expect(reqs.cancel('a', r2.id, false)).toBe('cancelled');
    const r3 = reqs.add('a', '{x="3"}', 0, 10);
    mode = 'filter-and-delete';
    now += 25 * HOUR;
    expect(reqs.cancel('a', r3.id, true)).toBe('cancelled');
    expect(reqs.list('a')).toEqual([]);
  });

  it('gives queries nothing when deletion is disabled, and its own changes at once', () => {
    let mode: DeletionMode = 'filter-only';
    const { reqs } = open({ mode: () => mode, refreshMs: 60_000 });
    expect(reqs.active('a')).toEqual([]);
    const r = reqs.add('a', '{x="1"} |= "s"', 0, 10);
    expect(reqs.active('a').map((c) => c.id)).toEqual([r.id]);
    // The cached list is the same object while nothing changed: one lookup per query.
    expect(reqs.active('a')).toBe(reqs.active('a'));
    mode = 'disabled';
    expect(reqs.active('a')).toEqual([]);
    mode = 'filter-only';
    reqs.cancel('a', r.id, false);
    expect(reqs.active('a')).toEqual([]);
  });

  it("sees another process's requests within its refresh interval", async () => {
    const first = open({ refreshMs: 100 });
    const other = open({ path: first.path, refreshMs: 100 });
    expect(first.reqs.active('a')).toEqual([]);
    const r = other.reqs.add('a', '{x="1"}', 0, 10);
    const deadline = Date.now() + 5000;
    while (first.reqs.active('a').length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(first.reqs.active('a').map((c) => c.id)).toEqual([r.id]);
    other.reqs.cancel('a', r.id, false);
    while (first.reqs.active('a').length !== 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(first.reqs.active('a')).toEqual([]);
  });

  it('skips a stored request whose query no longer parses instead of failing queries', () => {
    const { reqs, path } = open();
    const r = reqs.add('a', '{x="1"}', 0, 10);
    const raw = new Database(path);
    dbs.push(raw);
    raw.prepare('UPDATE delete_requests SET query = ? WHERE id = ?').run('{x=', r.id);
    reqs.add('a', '{x="2"}', 0, 10);
    expect(reqs.active('a').map((c) => c.spec.query)).toEqual(['{x="2"}']);
  });
});
