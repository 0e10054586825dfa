import type { Expr, Matcher } from '../../query/ast.js';
import { evaluate, QueryEvalError, type QueryParams } from '../../query/engine.js';
import { ParseError } from '../../query/parse-error.js';
import { parseExpr, parseSelector } from '../../query/parser.js';
import type { QueryResult } from '../../query/result.js';
import type { Limits } from '../config/config.js';
import { tenantLimits, type TenantLimits } from '../config/overrides.js';
import { effectiveStart, keepsForever, queryCutoff, retentionPolicy, type RetentionPolicy, type StreamCutoff } from '../store/retention.js';
import { canonicalLabels, type Labels } from '../model/labels.js';
import { formatDuration, nowNs } from '../model/time.js';
import type { LabelIndex } from '../store/label-index.js';
import type { ObjectStore } from '../store/object-store.js';
import { pieceCount, pieceLineBytes } from '../ingester/memory-piece.js';
import type { DeleteLookup } from './deleted-lines.js';
import type { MemorySource } from './memory-source.js';
import { MAIN_THREAD_SLICE_MS, QueryLifetime } from './query-lifetime.js';
import { humanBytes, selectorsRead } from './query-bytes.js';
import { resolveStreams, selectorPredicate } from './resolve-streams.js';
import { livePieces, StoreLogSource } from './store-source.js';
import { ChunkDamage } from './chunk-damage.js';
import { QueryWorkerPool } from './workers/pool.js';
import { volumeSeries, type VolumeSeries } from './volume.js';
import { MultiTenantLogSource, queryTenants, strictestLimits, TENANT_LABEL, tenantSelections, withTenant } from './multi-tenant.js';
import type { LogSource } from '../../query/source.js';
import { MultiTenantParallelRunner } from './multi-tenant-runner.js';
import { WorkerParallelRunner } from './parallel-runner.js';

/** A request the user can fix (bad LogQL, limits, timeout): the HTTP layer answers 400 with the message. */
export class BadQueryError extends Error {}

/** A query's result and what it could not read (damaged chunks), for the response's `warnings`. */
export type QueryAnswer = QueryResult & { warnings: string[] };

/** Counts chunks queries skipped as damaged (narvi_querier_damaged_chunks_total). */
export type DamageCounter = (kind: 'missing' | 'corrupt') => void;

export interface StreamInRange {
  labels: Labels;
  chunks: number;
  entries: number;
  bytes: number;
}

/** Plans queries against the label index, the chunk store and ingester memory, and runs the engine. */
export class Querier {
  /** Worker threads that share the work of big queries; null evaluates every query on this thread. */
  readonly pool: QueryWorkerPool | null;
  /** Each tenant's effective limits (the overrides file applied). */
  private readonly limits: TenantLimits;
  /** What queries hide as expired: the tenant's retention_period and retention_stream. */
  readonly retention: RetentionPolicy;

  /** `limits`: the same for every tenant, or each tenant's (RuntimeOverrides). `pool`: omitted, the default pool for this index and store (see QueryWorkerPool.auto); null for none. */
  constructor(
    private index: LabelIndex,
    private store: ObjectStore,
    private memory: MemorySource,
    limits: Limits | TenantLimits,
    pool?: QueryWorkerPool | null,
    /** The tenants' delete requests: entries they cover are left out of every query's results. */
    private deletes?: DeleteLookup,
    private countDamage?: DamageCounter,
  ) {
    this.pool = pool === undefined ? QueryWorkerPool.auto(index, store) : pool;
    this.limits = tenantLimits(limits);
    this.retention = retentionPolicy(this.limits);
  }

  /**
   * The query's view of retention: each stream's cutoff at this moment, or undefined when the tenant
   * keeps everything. Taken once per request, so every part of one query agrees on it.
   */
  private cutoffFor(tenant: string, limits: Limits): StreamCutoff | undefined {
    return keepsForever(limits) ? undefined : queryCutoff(this.retention, tenant, nowNs());
  }

  /** Stops the worker threads (they never keep the process alive, but a clean shutdown ends them). */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  parse(text: string): Expr {
    try {
      return parseExpr(text);
    } catch (err) {
      if (err instanceof ParseError) throw new BadQueryError(err.message);
      throw err;
    }
  }

  /** `anyStreams`: the selector may select every stream (`{}`), as the series API allows. */
  parseMatchers(text: string, anyStreams = false): Matcher[] {
    try {
      return parseSelector(text, anyStreams);
    } catch (err) {
      if (err instanceof ParseError) throw new BadQueryError(err.message);
      throw err;
    }
  }

  /**
   * Runs a LogQL query until it finishes, `limits.query_timeout` passes (QueryTimeoutError) or `signal`
   * aborts (its reason, a QueryCancelledError, is thrown).
   */
  async query(tenant: string, expr: Expr, params: QueryParams, signal?: AbortSignal): Promise<QueryAnswer> {
    const tenants = queryTenants(tenant);
    const limits = this.limitsOf(tenant);
    if (params.end - params.start > limits.maxQueryLength) {
      throw new BadQueryError(`the query time range exceeds the limit (query length: ${formatDuration(params.end - params.start)}, limit: ${formatDuration(limits.maxQueryLength)})`);
    }
    const life = this.lifetime(limits, signal);
    try {
      if (limits.maxQueryBytesRead > 0) await this.checkBytesRead(tenant, limits, expr, params, life);
      const damage = new ChunkDamage(this.countDamage);
      const source: LogSource = tenants
        ? this.multiTenantSource(tenants, life, damage)
        : new StoreLogSource(tenant, this.index, this.store, this.memory, this.pool, life, this.cutoffFor(tenant, limits), this.deletes?.active(tenant), damage);
      const result = await evaluate(expr, params, source, {
        maxSeries: limits.maxQuerySeries,
        maxEntries: limits.maxEntriesLimitPerQuery,
        signal: life.signal,
        deadline: life.deadline,
        deadlineError: () => life.timeoutError(),
        yieldEveryMs: MAIN_THREAD_SLICE_MS,
        templateMaxBytes: limits.maxTemplateOutputSize,
      });
      return Object.assign(result, { warnings: damage.warnings() });
    } catch (err) {
      const out = life.outcome(err);
      if (out instanceof QueryEvalError) throw new BadQueryError(out.message);
      throw out;
    } finally {
      life.end();
    }
  }

  /** Several tenants' streams as one source, each under its own retention and deletes, on the worker pool as one query. */
  private multiTenantSource(tenants: string[], life: QueryLifetime, damage: ChunkDamage): MultiTenantLogSource {
    const parts = tenants.map((t) => {
      const cutoff = this.cutoffFor(t, this.limits.forTenant(t));
      const deletes = this.deletes?.active(t);
      return {
        tenant: t,
        source: new StoreLogSource(t, this.index, this.store, this.memory, null, life, cutoff, deletes, damage),
        runner: this.pool ? new WorkerParallelRunner(t, this.index, this.memory, this.pool, life, cutoff, deletes, damage) : null,
      };
    });
    const pool = this.pool;
    const parallel = pool ? new MultiTenantParallelRunner(parts.map((p) => ({ tenant: p.tenant, runner: p.runner! })), this.index, this.memory, pool, life, damage) : undefined;
    return new MultiTenantLogSource(parts, parallel);
  }

  /** A tenant's limits; for several tenants (a|b), the strictest of theirs. */
  private limitsOf(tenant: string): Limits {
    const tenants = queryTenants(tenant);
    return tenants ? strictestLimits(tenants.map((t) => this.limits.forTenant(t))) : this.limits.forTenant(tenant);
  }

  private lifetime(limits: Limits, signal?: AbortSignal): QueryLifetime {
    return new QueryLifetime(limits.queryTimeoutMs, signal);
  }

  /** Runs `fn` under the tenant's query timeout and `signal`, as `query` does, with the tenant's retention. */
  private async bounded<T>(tenant: string, signal: AbortSignal | undefined, fn: (life: QueryLifetime, cutoff: StreamCutoff | undefined) => Promise<T>): Promise<T> {
    const limits = this.limitsOf(tenant);
    const life = this.lifetime(limits, signal);
    try {
      // Several tenants: each part takes its own tenant's cutoff (see streamsInRangeWithin).
      return await fn(life, queryTenants(tenant) ? undefined : this.cutoffFor(tenant, limits));
    } catch (err) {
      throw life.outcome(err);
    } finally {
      life.end();
    }
  }

  /**
   * Refuses, before reading anything, a query whose selectors cover more line bytes than
   * limits.max_query_bytes_read, by the index's chunk sizes and the ingesters' block sizes (as Loki
   * estimates from index stats). The same stream read by two selectors counts twice: it is read twice.
   */
  private async checkBytesRead(tenant: string, limits: Limits, expr: Expr, params: QueryParams, life: QueryLifetime): Promise<void> {
    let total = 0;
    const cutoff = queryTenants(tenant) ? undefined : this.cutoffFor(tenant, limits);
    for (const sel of selectorsRead(expr, params)) {
      for (const s of await this.streamsInRangeWithin(tenant, sel.matchers, sel.start, sel.end, life, cutoff)) total += s.bytes;
    }
    const limit = limits.maxQueryBytesRead;
    if (total > limit) {
      throw new BadQueryError(
        `the query would read too many bytes (query: ${humanBytes(total)}, limit: ${humanBytes(limit)}); consider adding more specific stream selectors or reduce the time range of the query (limits.max_query_bytes_read)`,
      );
    }
  }

  /**
   * The tenant's streams with data in [start, end), optionally only those matching a selector, with
   * their flushed chunk counts and sizes. Streams still only in memory count as in range. Bounded by the
   * query timeout and `signal`, as `query` is.
   */
  streamsInRange(tenant: string, matchers: Matcher[] | null, start: bigint, end: bigint, signal?: AbortSignal): Promise<StreamInRange[]> {
    return this.bounded(tenant, signal, (life, cutoff) => this.streamsInRangeWithin(tenant, matchers, start, end, life, cutoff));
  }

  /**
   * With `cutoff`, a stream counts only with chunks or blocks reaching past its retention cutoff; a chunk
   * that straddles the cutoff counts whole (sizes are known per chunk and per block, not per entry).
   */
  private async streamsInRangeWithin(tenant: string, matchers: Matcher[] | null, start: bigint, end: bigint, life: QueryLifetime, cutoff: StreamCutoff | undefined): Promise<StreamInRange[]> {
    const tenants = queryTenants(tenant);
    if (tenants) {
      // Each tenant's streams under its own retention, labelled with its ID.
      const all: StreamInRange[] = [];
      for (const part of tenantSelections(tenants, matchers ?? [])) {
        const cut = this.cutoffFor(part.tenant, this.limits.forTenant(part.tenant));
        for (const s of await this.streamsInRangeWithin(part.tenant, matchers ? part.matchers : null, start, end, life, cut)) all.push({ ...s, labels: withTenant(s.labels, part.tenant) });
      }
      return all;
    }
    const out = new Map<string, StreamInRange>();
    const indexed = await resolveStreams(this.index, tenant, matchers ?? [], life);
    for (const s of indexed) {
      await life.pace();
      const from = effectiveStart(cutoff, s.labels, start);
      if (from >= end) continue;
      const st = this.index.chunkStats(s.streamId, from, end);
      if (st.chunks > 0) out.set(s.canonical, { labels: s.labels, chunks: st.chunks, entries: st.entries, bytes: st.bytes });
    }
    const match = matchers ? selectorPredicate(matchers) : () => true;
    for (const snap of await life.race(this.memory.select(tenant, matchers ?? [], start, end, 'stats', life))) {
      await life.pace();
      if (!match(snap.labels)) continue;
      const from = effectiveStart(cutoff, snap.labels, start);
      const pieces = from < end ? livePieces(snap.pieces, from) : [];
      if (pieces.length === 0) continue;
      const key = canonicalLabels(snap.labels);
      let entries = 0;
      let bytes = 0;
      // Whole blocks count, as flushed chunks do: sizes come from the block table, nothing is decompressed.
      for (const p of pieces) {
        entries += pieceCount(p);
        bytes += pieceLineBytes(p);
      }
      const cur = out.get(key);
      if (cur) {
        cur.entries += entries;
        cur.bytes += bytes;
      } else out.set(key, { labels: snap.labels, chunks: 0, entries, bytes });
    }
    return [...out.values()];
  }

  async labelNames(tenant: string, start: bigint, end: bigint, query?: string, signal?: AbortSignal): Promise<string[]> {
    const streams = await this.streamsInRange(tenant, query ? this.parseMatchers(query) : null, start, end, signal);
    const names = new Set<string>();
    // The tenant label is the query's own, not a stored one: names are the tenants' labels merged, as in Loki.
    for (const s of streams) for (const n of Object.keys(s.labels)) if (n !== TENANT_LABEL || !queryTenants(tenant)) names.add(n);
    return [...names].sort();
  }

  async labelValues(tenant: string, name: string, start: bigint, end: bigint, query?: string, signal?: AbortSignal): Promise<string[]> {
    const tenants = queryTenants(tenant);
    // The values of the tenant label are the tenants the query names (those its selector lets through), as in Loki.
    if (tenants && name === TENANT_LABEL) return tenantSelections(tenants, query ? this.parseMatchers(query) : []).map((p) => p.tenant).sort();
    const streams = await this.streamsInRange(tenant, query ? this.parseMatchers(query) : null, start, end, signal);
    const values = new Set<string>();
    for (const s of streams) {
      const v = s.labels[name];
      if (v !== undefined) values.add(v);
    }
    return [...values].sort();
  }

  volumeRange(tenant: string, matchers: Matcher[], by: string[], start: bigint, end: bigint, step: bigint, signal?: AbortSignal, aggregateBy: 'series' | 'labels' = 'series'): Promise<VolumeSeries[]> {
    const tenants = queryTenants(tenant);
    if (!tenants) return this.bounded(tenant, signal, (life, cutoff) => volumeSeries(this.index, this.memory, tenant, matchers, by, start, end, step, life, cutoff, aggregateBy));
    return this.bounded(tenant, signal, async (life) => {
      // Each tenant's series, grouped again across tenants (by __tenant_id__ too when asked).
      const merged = new Map<string, VolumeSeries>();
      const byTenant = by.includes(TENANT_LABEL);
      for (const part of tenantSelections(tenants, matchers)) {
        const cut = this.cutoffFor(part.tenant, this.limits.forTenant(part.tenant));
        for (const s of await volumeSeries(this.index, this.memory, part.tenant, part.matchers, by.filter((n) => n !== TENANT_LABEL), start, end, step, life, cut, aggregateBy)) {
          const metric = byTenant ? withTenant(s.metric, part.tenant) : s.metric;
          const key = canonicalLabels(metric);
          const cur = merged.get(key);
          if (!cur) merged.set(key, { ...s, metric, values: [...s.values] });
          else s.values.forEach((v, i) => (cur.values[i] = (cur.values[i] ?? 0) + v));
        }
      }
      return [...merged.values()];
    });
  }

  /** Streams matching any of `selectors`; `{}` selects every stream, as in Loki's series API. */
  async series(tenant: string, selectors: string[], start: bigint, end: bigint, signal?: AbortSignal): Promise<Labels[]> {
    const matchers = selectors.map((sel) => this.parseMatchers(sel, true));
    return this.bounded(tenant, signal, async (life, cutoff) => {
      const seen = new Map<string, Labels>();
      for (const m of matchers) {
        for (const s of await this.streamsInRangeWithin(tenant, m, start, end, life, cutoff)) seen.set(canonicalLabels(s.labels), s.labels);
      }
      life.check();
      return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
    });
  }
}

