/**
 * The per-entry half of a range aggregation: takes one stream's batches at a time and moves each
 * entry's sample into its series' sliding window, which reports a partial result at every step it
 * covers; partials of different streams feeding the same series merge per step. Steps where a
 * series' window is empty cost nothing.
 *
 * A class, not closures made per query and per stream: V8 compiles a closure's code per closure
 * object, so the per-entry functions were recompiled (tens of milliseconds each) for every stream of
 * every query; methods are compiled once per thread.
 */
import type { RangeAggregationExpr } from '../ast.js';
import type { EntryBatch } from '../../src/model/batch.js';
import type { Labels } from '../../src/model/labels.js';
import type { FieldScanner, Pipeline, PipelineEntry } from '../pipeline-types.js';
import type { QueryStats } from '../result.js';
import { SeriesLimitError } from './errors.js';
import { groupValuesKey, scannedGroupKey } from './group-key.js';
import { applyGrouping, hasErrorLabel, labelsKey, withoutNames } from './label-set.js';
import { buildPostFilter } from './post-filter.js';
import { rangeKind, type RangeKind } from './range-kind.js';
import { SampleStore, StepStore } from './range-store.js';
import { RangeWindow } from './range-window.js';
import type { RelClock } from './rel-time.js';
import { convertUnwrapped, type Conversion } from './unwrap-value.js';

interface WindowTarget {
  window: RangeWindow;
  store: StepStore;
}

type Target = WindowTarget | SampleStore;

/** The step grid in times relative to the query's clock (see RelClock). */
export interface RelGrid {
  count: number;
  /** Each step's window end. */
  ends: Float64Array;
  /** The range, in the same unit. */
  rangeN: number;
  /** Turns a batch's timestamps into that clock's times. */
  clock: RelClock;
}

export class RangeAccumulator {
  readonly stepStores = new Map<string, StepStore>();
  readonly sampleStores = new Map<string, SampleStore>();

  private readonly count: number;
  private readonly ends: Float64Array;
  private readonly rangeN: number;
  private readonly clock: RelClock;
  private readonly lastEndRel: number;
  private readonly kind: RangeKind;
  private readonly stepKind: Exclude<RangeKind, 'samples'>;
  private readonly unwrap: RangeAggregationExpr['unwrap'];
  private readonly conversion: Conversion;
  private readonly countsBytes: boolean;
  private readonly grouping: RangeAggregationExpr['grouping'];
  /** `by` names: series keyed straight from the entry's label values, without building its label set. */
  private readonly fastBy: string[] | null;
  /** No stages and no unwrap: the sample is 1 or the line's length, so lines need not be decoded. */
  private readonly direct: boolean;
  private readonly postFilter: ReturnType<typeof buildPostFilter> | undefined;

  // The stream being read.
  private labels: Labels = {};
  private times: Float64Array = new Float64Array(0);
  private windows = new Map<string, WindowTarget>();
  private fastTargets = new Map<string, Target>();
  private lastLabels: Labels | undefined;
  private lastTarget: Target | undefined;
  /** The target of the last entry's metadata object, when no stage changes labels (see entry). */
  private lastMetadata: Record<string, string> | null = null;
  private lastMetadataTarget: Target | undefined;
  /** The stream's field scanner, when its lines can skip the pipeline (see feedScanned). */
  private scanner: FieldScanner | null = null;

  /** The pipeline's callback, bound once. */
  private readonly emit = (i: number, e: PipelineEntry): void => this.entry(i, e);

  constructor(
    expr: RangeAggregationExpr,
    grid: RelGrid,
    private readonly pipeline: Pipeline,
    private readonly stats: QueryStats,
    /** max_query_series, checked as series appear: the per-series state is what grows with cardinality. */
    private readonly maxSeries?: number,
  ) {
    this.count = grid.count;
    this.ends = grid.ends;
    this.rangeN = grid.rangeN;
    this.clock = grid.clock;
    this.lastEndRel = grid.ends[grid.count - 1]!;
    this.kind = rangeKind(expr.op);
    this.stepKind = this.kind === 'samples' ? 'sum' : this.kind;
    this.unwrap = expr.unwrap;
    this.conversion = expr.unwrap?.conversion ?? 'float';
    this.countsBytes = expr.op === 'bytes_over_time' || expr.op === 'bytes_rate';
    this.grouping = expr.grouping;
    this.fastBy = expr.grouping && !expr.grouping.without ? expr.grouping.labels : null;
    this.direct = expr.selector.pipeline.length === 0 && !expr.unwrap && this.kind !== 'samples';
    this.postFilter = expr.unwrap ? buildPostFilter(expr.unwrap.postFilters) : undefined;
  }

  startStream(labels: Labels): void {
    this.stats.totalStreamsSelected++;
    this.labels = labels;
    this.windows = new Map();
    this.fastTargets = new Map();
    this.lastLabels = undefined;
    this.lastTarget = undefined;
    this.lastMetadataTarget = undefined;
    // A lone hinted parser feeding `by` groups, with samples of 1 or the line's bytes (see feedScanned).
    const scans = this.fastBy !== null && !this.unwrap && this.kind !== 'samples' && !this.pipeline.preservesLabels && !hasErrorLabel(labels);
    this.scanner = scans ? this.pipeline.fieldScanner : null;
  }

  /** One batch of the stream. */
  addBatch(batch: EntryBatch): void {
    if (batch.count === 0) return;
    this.stats.totalLinesProcessed += batch.count;
    this.stats.totalBytesProcessed += batch.lineOffsets[batch.count]! - batch.lineOffsets[0]!;
    this.times = this.clock.batchTimes(batch);
    if (this.direct && !batch.metadata) this.feedDirect(batch);
    else if (this.scanner !== null && !batch.metadata) this.feedScanned(batch, this.scanner);
    else this.pipeline.runEntries(batch, this.labels, this.emit);
  }

  /** Reports what the stream's windows still hold at the steps they reach. */
  endStream(): void {
    for (const t of this.windows.values()) this.finish(t);
  }

  private feedDirect(batch: EntryBatch): void {
    const offsets = batch.lineOffsets;
    const times = this.times;
    const lastEndRel = this.lastEndRel;
    for (let i = 0; i < batch.count; i++) {
      const rel = times[i]!;
      if (rel < 0 || rel > lastEndRel) continue;
      this.stats.totalPostFilterLines++;
      if (this.labels !== this.lastLabels) {
        this.lastLabels = this.labels;
        this.lastTarget = this.targetFor(this.labels);
      }
      this.feed(this.lastTarget as WindowTarget, rel, this.countsBytes ? offsets[i + 1]! - offsets[i]! : 1);
    }
  }

  /**
   * Scans each line's fields here and keys its group from them, without the pipeline's per-entry label
   * machinery; lines the scanner declines, and the first line of each group (which makes its series),
   * go through the pipeline.
   */
  private feedScanned(batch: EntryBatch, sc: FieldScanner): void {
    const offsets = batch.lineOffsets;
    const lines = batch.lines;
    const times = this.times;
    const lastEndRel = this.lastEndRel;
    const labels = this.labels;
    const by = this.fastBy!;
    const targets = this.fastTargets;
    for (let i = 0; i < batch.count; i++) {
      const rel = times[i]!;
      if (rel < 0 || rel > lastEndRel) continue;
      const s = offsets[i]!;
      const e = offsets[i + 1]!;
      const t = sc.scan(lines, s, e) ? targets.get(scannedGroupKey(sc, labels, by)) : undefined;
      if (t === undefined) {
        this.pipeline.runEntry(batch, i, labels, this.emit);
        continue;
      }
      this.stats.totalPostFilterLines++;
      this.feed(t as WindowTarget, rel, this.countsBytes ? e - s : 1);
    }
  }

  /** An entry that came through the pipeline. */
  private entry(i: number, e: PipelineEntry): void {
    const rel = this.times[i]!;
    if (rel < 0 || rel > this.lastEndRel) return;
    this.stats.totalPostFilterLines++;
    let value = 1;
    let target: Target;
    const unwrap = this.unwrap;
    if (unwrap) {
      const raw = e.get(unwrap.label);
      // Entries without the label are not samples (Loki does the same).
      if (raw === undefined || raw === '') return;
      let l = e.labels();
      let cacheable = true;
      const c = convertUnwrapped(raw, this.conversion);
      if (c.ok) value = c.value;
      else {
        l = { ...l, __error__: 'SampleExtractionErr', __error_details__: c.error };
        value = 0;
        cacheable = false;
      }
      if (this.postFilter) {
        const out = this.postFilter(l);
        if (!out) return;
        if (out !== l) {
          l = out;
          cacheable = false;
        }
      }
      if (cacheable && l === this.lastLabels) target = this.lastTarget!;
      else {
        target = this.targetFor(l);
        if (cacheable) {
          this.lastLabels = l;
          this.lastTarget = target;
        }
      }
    } else {
      if (this.countsBytes) value = e.rewritten ? Buffer.byteLength(e.line, 'utf8') : e.rawLength();
      const by = this.fastBy;
      if (by !== null && !this.pipeline.preservesLabels && !e.hasError()) {
        const key = groupValuesKey(e, by);
        let t = this.fastTargets.get(key);
        if (t === undefined) this.fastTargets.set(key, (t = this.targetFor(e.labels())));
        target = t;
      } else if (this.pipeline.preservesLabels && !e.hasError()) {
        // No stage changes labels: an entry's are its stream's plus its metadata, so entries sharing a
        // metadata object (detected_level runs) share a target without building their label set.
        const md = e.metadata();
        if (md === this.lastMetadata && this.lastMetadataTarget !== undefined) target = this.lastMetadataTarget;
        else {
          target = this.targetFor(e.labels());
          this.lastMetadata = md;
          this.lastMetadataTarget = target;
        }
      } else {
        const l = e.labels();
        if (l === this.lastLabels) target = this.lastTarget!;
        else {
          target = this.targetFor(l);
          this.lastLabels = l;
          this.lastTarget = target;
        }
      }
    }
    if (target instanceof SampleStore) target.push(rel, value);
    else this.feed(target, rel, value);
  }

  private seriesLabels(l: Labels): Labels {
    // An error keeps every label so the user sees where it came from (Loki skips grouping then too).
    if (hasErrorLabel(l)) return l;
    const grouping = this.grouping;
    if (this.unwrap) {
      if (grouping && !grouping.without) return applyGrouping(l, grouping);
      return withoutNames(l, [...(grouping?.labels ?? []), '__name__', this.unwrap.label]);
    }
    return applyGrouping(l, grouping);
  }

  private checkSeries(held: number): void {
    if (this.maxSeries !== undefined && held >= this.maxSeries) throw new SeriesLimitError(this.maxSeries);
  }

  private targetFor(l: Labels): Target {
    const sl = this.seriesLabels(l);
    const key = labelsKey(sl);
    if (this.kind === 'samples') {
      let s = this.sampleStores.get(key);
      if (!s) {
        this.checkSeries(this.sampleStores.size);
        this.sampleStores.set(key, (s = new SampleStore(sl)));
      }
      return s;
    }
    let t = this.windows.get(key);
    if (!t) {
      let store = this.stepStores.get(key);
      if (!store) {
        this.checkSeries(this.stepStores.size);
        this.stepStores.set(key, (store = new StepStore(sl, this.stepKind, this.count)));
      }
      this.windows.set(key, (t = { window: new RangeWindow(this.kind), store }));
    }
    return t;
  }

  private firstEndAtOrAfter(rel: number, from: number): number {
    const ends = this.ends;
    let lo = from;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! < rel) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private feed(t: WindowTarget, rel: number, v: number): void {
    const w = t.window;
    const ends = this.ends;
    const count = this.count;
    if (w.size === 0) {
      w.nextStep = this.firstEndAtOrAfter(rel, w.nextStep);
    } else {
      while (w.nextStep < count && ends[w.nextStep]! < rel) {
        w.evictThrough(ends[w.nextStep]! - this.rangeN);
        if (w.size === 0) {
          w.nextStep = this.firstEndAtOrAfter(rel, w.nextStep + 1);
          break;
        }
        t.store.merge(w.nextStep, w);
        w.nextStep++;
      }
    }
    if (w.nextStep < count) w.add(rel, v);
  }

  private finish(t: WindowTarget): void {
    const w = t.window;
    while (w.nextStep < this.count && w.size > 0) {
      w.evictThrough(this.ends[w.nextStep]! - this.rangeN);
      if (w.size > 0) t.store.merge(w.nextStep, w);
      w.nextStep++;
    }
  }
}
