import type { IngestEntry } from '../../model/entry.js';
import type { Labels } from '../../model/labels.js';
import { bucketOf, BUCKET_MS, Drain, DRAIN_DEFAULTS, type DrainOptions } from './drain.js';

const BUCKET_NS = BigInt(BUCKET_MS) * 1_000_000n;

export interface PatternStoreOptions {
  /** Clusters per stream (pattern_ingester.max_clusters). */
  maxClusters: number;
  /** Streams followed at once; the least recently pushed is dropped past it (pattern_ingester.max_streams). */
  maxStreams: number;
  /** Counts older than this are dropped (pattern_ingester.retain_for), ms. */
  retainForMs: number;
  drain?: Partial<DrainOptions>;
}

/** One pattern's counts, per step-aligned timestamp (ms → count). */
export interface PatternSeries {
  pattern: string;
  level?: string;
  samples: [number, number][];
}

/** Levels a pattern is kept apart by (Loki's detected_level values); anything else counts as none. */
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'critical', 'fatal', 'unknown']);

interface StreamPatterns {
  tenant: string;
  labels: Labels;
  drain: Drain;
}

/**
 * The patterns of every stream this ingester received lines for, kept in memory only (as Loki's pattern
 * ingester does): lost on restart, rebuilt by the lines that follow. Each stream has its own Drain
 * miner; a line's level (its `detected_level` structured metadata, else the stream's `detected_level`
 * label) keeps patterns of different levels apart.
 */
export class PatternStore {
  /** tenant NUL canonical labels → stream; insertion order is recency (re-inserted on each push). */
  private streams = new Map<string, StreamPatterns>();
  private timer: NodeJS.Timeout | null = null;
  private readonly drainOpts: DrainOptions;
  /** Lines skipped (too long, too many tokens, empty) and lines mined, for metrics. */
  skipped = 0;
  mined = 0;

  constructor(readonly opts: PatternStoreOptions) {
    this.drainOpts = { ...DRAIN_DEFAULTS, ...opts.drain, maxClusters: opts.maxClusters };
  }

  /** Drops expired counts every `everyMs` until stop(). */
  start(everyMs = 60_000): void {
    this.timer ??= setInterval(() => this.prune(Date.now()), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  clusterCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.drain.size;
    return n;
  }

  /** Mines the accepted entries of one stream's push. Entries in buckets wholly older than the retention are not counted. */
  observe(tenant: string, canonical: string, labels: Labels, entries: readonly IngestEntry[], nowMs = Date.now()): void {
    const key = tenant + '\u0000' + canonical;
    let s = this.streams.get(key);
    if (s) this.streams.delete(key);
    else {
      if (this.streams.size >= this.opts.maxStreams) {
        const oldest = this.streams.keys().next().value;
        if (oldest !== undefined) this.streams.delete(oldest);
      }
      s = { tenant, labels, drain: new Drain(this.drainOpts) };
    }
    this.streams.set(key, s);
    const cutoff = nowMs - this.opts.retainForMs;
    const maxBytes = this.drainOpts.maxLineBytes;
    const streamLevel = labels.detected_level !== undefined && LEVELS.has(labels.detected_level) ? labels.detected_level : '';
    // Entries of a push are mostly in one 10 s bucket: its bounds in ns spare a BigInt division per entry.
    let lo = 1n;
    let hi = 0n;
    let bucket = 0;
    for (const e of entries) {
      // Length first: a line too long is never decoded.
      if (e.line.length > maxBytes) {
        this.skipped++;
        continue;
      }
      if (e.ts < lo || e.ts >= hi) {
        bucket = bucketOf(Number(e.ts / 1_000_000n));
        lo = BigInt(bucket) * 1_000_000n;
        hi = lo + BUCKET_NS;
      }
      if (bucket + BUCKET_MS <= cutoff) continue;
      const md = e.metadata?.detected_level;
      const level = md !== undefined && LEVELS.has(md) ? md : streamLevel;
      if (s.drain.train(e.line.toString('utf8'), bucket, level) === 'skipped') this.skipped++;
      else this.mined++;
    }
  }

  /** Drops counts older than the retention, clusters left with none, and streams left with no cluster. */
  prune(nowMs: number): void {
    const cutoff = nowMs - this.opts.retainForMs;
    for (const [key, s] of this.streams) if (s.drain.prune(cutoff) === 0) this.streams.delete(key);
  }

  /**
   * The patterns of the tenant's streams that `match`, with their counts in [startMs, endMs) summed per
   * step (timestamps truncated to a multiple of `stepMs`, as Loki aligns them); the same pattern and
   * level in several streams is one series.
   */
  query(tenant: string, match: (labels: Labels) => boolean, startMs: number, endMs: number, stepMs: number): PatternSeries[] {
    const acc = new PatternAccumulator();
    for (const s of this.streams.values()) {
      if (s.tenant !== tenant || !match(s.labels)) continue;
      for (const c of s.drain.all()) {
        const t = c.times;
        if (t.length === 0 || t[t.length - 1]! < startMs || t[0]! >= endMs) continue;
        let into: Map<number, number> | null = null;
        for (let i = 0; i < t.length; i++) {
          const ts = t[i]!;
          if (ts < startMs) continue;
          if (ts >= endMs) break;
          into ??= acc.series(c.pattern(), c.level);
          const at = ts - (((ts % stepMs) + stepMs) % stepMs);
          into.set(at, (into.get(at) ?? 0) + c.counts[i]!);
        }
      }
    }
    return acc.result();
  }
}

/** Sums pattern series by (pattern, level): across streams here, across ingesters in the querier. */
export class PatternAccumulator {
  private byKey = new Map<string, { pattern: string; level: string; points: Map<number, number> }>();

  series(pattern: string, level: string): Map<number, number> {
    const key = level + '\u0000' + pattern;
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = { pattern, level, points: new Map() }));
    return s.points;
  }

  add(series: PatternSeries): void {
    const into = this.series(series.pattern, series.level ?? '');
    for (const [t, v] of series.samples) into.set(t, (into.get(t) ?? 0) + v);
  }

  /** Series with samples in time order, the most frequent pattern first (then by pattern text). */
  result(): PatternSeries[] {
    const out = [...this.byKey.values()].map((s) => {
      let total = 0;
      const samples = [...s.points.entries()].sort((a, b) => a[0] - b[0]);
      for (const [, v] of samples) total += v;
      const series: PatternSeries = { pattern: s.pattern, samples };
      if (s.level) series.level = s.level;
      return { series, total };
    });
    out.sort((a, b) => b.total - a.total || (a.series.pattern < b.series.pattern ? -1 : a.series.pattern > b.series.pattern ? 1 : (a.series.level ?? '') < (b.series.level ?? '') ? -1 : 1));
    return out.map((o) => o.series);
  }
}
