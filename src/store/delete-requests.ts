/**
 * Delete requests (Loki's log entry deletion): stored in their own SQLite file beside the label index
 * (`<storage.path>/index/delete_requests.sqlite`), so every process sharing the data directory (a querier
 * beside the server that took the request, the compactor) sees them, and rebuilding or replacing the label
 * index never forgets a request. Queries read them through a per-tenant cache; the compactor asks for
 * those past their cancel period.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeletionMode } from '../config/config.js';
import { CompiledDelete, type DeleteSpec } from './delete-matcher.js';

export type DeleteStatus = 'received' | 'processed';

export interface DeleteRequest extends DeleteSpec {
  status: DeleteStatus;
  createdAtMs: number;
}

/** Why a cancel was refused; the HTTP layer turns each into its status and message. */
export type CancelOutcome = 'cancelled' | 'not-found' | 'processed' | 'past-cancel-period';

export interface DeleteRequestMetrics {
  received: Counter<'tenant'>;
  processed: Counter<'tenant'>;
}

/** Loki's compactor metric names, with narvi's prefix. */
export function deleteRequestMetrics(registry: Registry, pending: () => Map<string, number>): DeleteRequestMetrics {
  const received = new Counter({ name: 'narvi_compactor_delete_requests_received_total', help: 'Delete requests received, per tenant.', labelNames: ['tenant'], registers: [registry] });
  const processed = new Counter({ name: 'narvi_compactor_delete_requests_processed_total', help: 'Delete requests the compactor has applied to stored chunks, per tenant.', labelNames: ['tenant'], registers: [registry] });
  new Gauge({
    name: 'narvi_compactor_pending_delete_requests_count',
    help: 'Delete requests received and not yet processed (cancellable or waiting for the compactor), per tenant.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [tenant, n] of pending()) this.set({ tenant }, n);
    },
  });
  return { received, processed };
}

interface Row {
  id: string;
  tenant: string;
  query: string;
  start_ms: number;
  end_ms: number;
  created_at_ms: number;
  status: DeleteStatus;
}

function fromRow(r: Row): DeleteRequest {
  return { id: r.id, tenant: r.tenant, query: r.query, startMs: r.start_ms, endMs: r.end_ms, createdAtMs: r.created_at_ms, status: r.status };
}

export interface DeleteRequestOptions {
  /** compactor.delete_request_cancel_period in milliseconds. */
  cancelPeriodMs: number;
  /** The tenant's limits.deletion_mode. */
  modeOf: (tenant: string) => DeletionMode;
  /**
   * How old a tenant's cached requests may get before queries read them again: requests taken by another
   * process sharing the index show within this; this process's own changes show at once.
   */
  refreshMs?: number;
  metrics?: DeleteRequestMetrics;
  now?: () => number;
}

/** Where the requests of a data directory live. */
export function deleteRequestsPath(storagePath: string): string {
  return `${storagePath.replace(/\/+$/, '')}/index/delete_requests.sqlite`;
}

export class DeleteRequests {
  /** Opens (creating it if needed) the requests file at `path`; close() closes it. */
  static open(path: string, opts: DeleteRequestOptions): DeleteRequests {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    return new DeleteRequests(db, opts);
  }


  private readonly stmts;
  private readonly cache = new Map<string, { at: number; list: readonly CompiledDelete[] }>();
  /** Parsed requests by id: a refresh re-reads rows, never re-parses queries. */
  private readonly compiled = new Map<string, CompiledDelete>();
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: DeleteRequestOptions,
  ) {
    this.refreshMs = opts.refreshMs ?? 1000;
    this.now = opts.now ?? Date.now;
    db.exec(`
      CREATE TABLE IF NOT EXISTS delete_requests (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        query TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        status TEXT NOT NULL,
        processed_at_ms INTEGER
      );
      CREATE INDEX IF NOT EXISTS delete_requests_by_tenant ON delete_requests (tenant, created_at_ms);
    `);
    const cols = 'id, tenant, query, start_ms, end_ms, created_at_ms, status';
    this.stmts = {
      insert: db.prepare(`INSERT INTO delete_requests (${cols}) VALUES (?, ?, ?, ?, ?, ?, 'received')`),
      exists: db.prepare('SELECT 1 FROM delete_requests WHERE id = ?').pluck(),
      ofTenant: db.prepare(`SELECT ${cols} FROM delete_requests WHERE tenant = ? ORDER BY created_at_ms, id`),
      one: db.prepare(`SELECT ${cols} FROM delete_requests WHERE tenant = ? AND id = ?`),
      remove: db.prepare("DELETE FROM delete_requests WHERE tenant = ? AND id = ? AND status = 'received'"),
      due: db.prepare(`SELECT ${cols} FROM delete_requests WHERE tenant = ? AND status = 'received' AND created_at_ms <= ? ORDER BY created_at_ms, id`),
      markProcessed: db.prepare("UPDATE delete_requests SET status = 'processed', processed_at_ms = ? WHERE id = ? AND status = 'received' RETURNING tenant").pluck(),
      tenants: db.prepare('SELECT DISTINCT tenant FROM delete_requests').pluck(),
      pending: db.prepare("SELECT tenant, COUNT(*) AS n FROM delete_requests WHERE status = 'received' GROUP BY tenant"),
    };
  }

  modeOf(tenant: string): DeletionMode {
    return this.opts.modeOf(tenant);
  }

  /** Stores a new request (the query must have passed parseDeleteQuery) and returns it. */
  add(tenant: string, query: string, startMs: number, endMs: number): DeleteRequest {
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (this.stmts.exists.get(id) !== undefined);
    const createdAtMs = this.now();
    this.stmts.insert.run(id, tenant, query, startMs, endMs, createdAtMs);
    this.cache.delete(tenant);
    this.opts.metrics?.received.inc({ tenant });
    return { id, tenant, query, startMs, endMs, createdAtMs, status: 'received' };
  }

  /** The tenant's requests, oldest first. */
  list(tenant: string): DeleteRequest[] {
    return (this.stmts.ofTenant.all(tenant) as Row[]).map(fromRow);
  }

  /**
   * Cancels a request that was not processed yet. In filter-and-delete mode a request past its cancel
   * period may be in the compactor's hands: it is only cancelled with `force`.
   */
  cancel(tenant: string, id: string, force: boolean): CancelOutcome {
    const row = this.stmts.one.get(tenant, id) as Row | undefined;
    if (!row) return 'not-found';
    if (row.status !== 'received') return 'processed';
    if (!force && this.opts.modeOf(tenant) === 'filter-and-delete' && row.created_at_ms + this.opts.cancelPeriodMs <= this.now()) return 'past-cancel-period';
    // The status is checked again in the statement: the compactor may have marked it meanwhile.
    const changed = this.stmts.remove.run(tenant, id).changes;
    this.cache.delete(tenant);
    this.compiled.delete(id);
    return changed > 0 ? 'cancelled' : 'processed';
  }

  /**
   * The requests queries must apply for the tenant (received and processed alike: a processed request
   * still hides lines that were in ingester memory when the compactor ran). Empty when deletion is
   * disabled for the tenant. One map lookup while the cache is fresh.
   */
  active(tenant: string): readonly CompiledDelete[] {
    if (this.opts.modeOf(tenant) === 'disabled') return [];
    const now = this.now();
    const hit = this.cache.get(tenant);
    if (hit && now - hit.at < this.refreshMs) return hit.list;
    const list: CompiledDelete[] = [];
    for (const r of this.stmts.ofTenant.all(tenant) as Row[]) {
      let c = this.compiled.get(r.id);
      if (!c || c.spec.query !== r.query) {
        try {
          c = new CompiledDelete(fromRow(r));
        } catch {
          // Accepted queries always parse; a row that does not (edited by hand) cannot hide anything.
          continue;
        }
        this.compiled.set(r.id, c);
      }
      list.push(c);
    }
    this.cache.set(tenant, { at: now, list });
    return list;
  }

  /** Tenants that have any request: the compactor's starting point. */
  tenants(): string[] {
    return this.stmts.tenants.all() as string[];
  }

  /**
   * Requests the compactor may now apply to stored chunks: received, past their cancel period, and the
   * tenant's mode is filter-and-delete (filter-only requests are never processed).
   */
  processable(tenant: string, nowMs: number = this.now()): DeleteRequest[] {
    if (this.opts.modeOf(tenant) !== 'filter-and-delete') return [];
    return (this.stmts.due.all(tenant, nowMs - this.opts.cancelPeriodMs) as Row[]).map(fromRow);
  }

  /** Records that the compactor applied these requests to every stored chunk; returns how many changed. */
  markProcessed(ids: readonly string[]): number {
    const at = this.now();
    let n = 0;
    this.db.transaction(() => {
      for (const id of ids) {
        const tenant = this.stmts.markProcessed.get(at, id) as string | undefined;
        if (tenant === undefined) continue;
        n++;
        this.cache.delete(tenant);
        this.opts.metrics?.processed.inc({ tenant });
      }
    })();
    return n;
  }

  close(): void {
    this.db.close();
  }

  /** Received, unprocessed requests per tenant (the pending gauge). */
  pendingByTenant(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.stmts.pending.all() as { tenant: string; n: number }[]) out.set(r.tenant, r.n);
    return out;
  }
}
