import type { Labels } from '../../src/model/labels.js';
import type { RangeKind } from './range-kind.js';
import { lessForMin, greaterForMax } from './range-kind.js';
import type { RangeWindow } from './range-window.js';
import type { SerializedSampleStore, SerializedStepStore } from '../parallel.js';

/**
 * The per-step partial results of one output series of a range aggregation. Windows of different streams
 * that feed the same series (after grouping or relabelling) merge here, one step at a time; a series fed
 * by a single stream just receives each step once.
 */
export class StepStore {
  readonly has: Uint8Array;
  /** sum | min/max value | first/last value | var mean */
  readonly a: Float64Array;
  /** count | first/last relative time | var squared deviations */
  readonly b: Float64Array;
  /** var: count */
  readonly c: Float64Array | undefined;

  constructor(readonly labels: Labels, readonly kind: Exclude<RangeKind, 'samples'>, steps: number) {
    this.has = new Uint8Array(steps);
    this.a = new Float64Array(steps);
    this.b = new Float64Array(steps);
    if (kind === 'var') this.c = new Float64Array(steps);
  }

  /** A store rebuilt from its transferable form (see `serialize`). */
  static from(s: SerializedStepStore): StepStore {
    const out = new StepStore(s.labels, s.kind, 0);
    const o = out as { has: Uint8Array; a: Float64Array; b: Float64Array; c: Float64Array | undefined };
    o.has = s.has;
    o.a = s.a;
    o.b = s.b;
    o.c = s.c;
    return out;
  }

  serialize(): SerializedStepStore {
    const s: SerializedStepStore = { labels: this.labels, kind: this.kind, has: this.has, a: this.a, b: this.b };
    if (this.c) s.c = this.c;
    return s;
  }

  /** Adds another store's partials for the same series (other streams): sums add, extremes compare. */
  mergeStore(o: StepStore): void {
    if (o.kind !== this.kind) throw new Error(`cannot merge a ${o.kind} store into a ${this.kind} store`);
    for (let step = 0; step < this.has.length; step++) {
      if (!o.has[step]) continue;
      const first = !this.has[step];
      this.has[step] = 1;
      const v = o.a[step]!;
      switch (this.kind) {
        case 'sum':
          if (first) {
            this.a[step] = v;
            this.b[step] = o.b[step]!;
          } else {
            this.a[step] += v;
            this.b[step] += o.b[step]!;
          }
          break;
        case 'min':
          if (first || lessForMin(v, this.a[step]!)) this.a[step] = v;
          break;
        case 'max':
          if (first || greaterForMax(v, this.a[step]!)) this.a[step] = v;
          break;
        default:
          throw new Error(`${this.kind} partials do not merge across streams`);
      }
    }
  }

  merge(step: number, w: RangeWindow): void {
    const first = !this.has[step];
    this.has[step] = 1;
    switch (this.kind) {
      case 'sum':
        if (first) {
          this.a[step] = w.total();
          this.b[step] = w.size;
        } else {
          this.a[step] += w.total();
          this.b[step] += w.size;
        }
        break;
      case 'min': {
        const v = w.extreme();
        if (first || lessForMin(v, this.a[step]!)) this.a[step] = v;
        break;
      }
      case 'max': {
        const v = w.extreme();
        if (first || greaterForMax(v, this.a[step]!)) this.a[step] = v;
        break;
      }
      case 'first':
        if (first || w.firstRel() < this.b[step]!) {
          this.a[step] = w.firstVal();
          this.b[step] = w.firstRel();
        }
        break;
      case 'last':
        if (first || w.lastRel() >= this.b[step]!) {
          this.a[step] = w.lastVal();
          this.b[step] = w.lastRel();
        }
        break;
      case 'var': {
        const n = w.size;
        const mean = w.varMean();
        // Welford over a window holding NaN or ±Inf gives NaN, as Loki computes it; the window keeps its
        // squared deviations over the finite values only, so the NaN is carried by the mean.
        const m2 = Number.isNaN(mean) ? NaN : w.m2;
        if (first) {
          this.a[step] = mean;
          this.b[step] = m2;
          this.c![step] = n;
        } else {
          // Chan et al.: combine two (count, mean, M2) summaries.
          const na = this.c![step]!;
          const nt = na + n;
          const delta = mean - this.a[step]!;
          this.a[step] = this.a[step]! + (delta * n) / nt;
          this.b[step] = this.b[step]! + m2 + (delta * delta * na * n) / nt;
          this.c![step] = nt;
        }
        break;
      }
    }
  }
}

/**
 * All samples of one output series, for the operations without a partial form (quantile_over_time,
 * rate_counter). Streams append their runs; the whole is put in time order once, at the end.
 */
export class SampleStore {
  rel = new Float64Array(64);
  val = new Float64Array(64);
  length = 0;
  private ordered = true;

  constructor(readonly labels: Labels) {}

  /** A store rebuilt from its transferable form (see `serialize`). */
  static from(s: SerializedSampleStore): SampleStore {
    const out = new SampleStore(s.labels);
    out.rel = s.rel as Float64Array<ArrayBuffer>;
    out.val = s.val as Float64Array<ArrayBuffer>;
    out.length = s.rel.length;
    return out;
  }

  /** Its samples in time order, trimmed to their count, ready to transfer. */
  serialize(): SerializedSampleStore {
    this.sort();
    return { labels: this.labels, rel: this.rel.slice(0, this.length), val: this.val.slice(0, this.length) };
  }

  push(rel: number, v: number): void {
    if (this.length === this.rel.length) {
      const r = new Float64Array(this.length * 2);
      const w = new Float64Array(this.length * 2);
      r.set(this.rel);
      w.set(this.val);
      this.rel = r;
      this.val = w;
    }
    if (this.length > 0 && rel < this.rel[this.length - 1]!) this.ordered = false;
    this.rel[this.length] = rel;
    this.val[this.length] = v;
    this.length++;
  }

  /** Stable sort by time: samples with equal times keep the order in which streams delivered them. */
  sort(): void {
    if (this.ordered) return;
    const n = this.length;
    const idx = Array.from({ length: n }, (_, i) => i);
    const rel = this.rel;
    idx.sort((x, y) => rel[x]! - rel[y]! || x - y);
    const r = new Float64Array(n);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      r[i] = rel[idx[i]!]!;
      v[i] = this.val[idx[i]!]!;
    }
    this.rel = r;
    this.val = v;
    this.ordered = true;
  }
}
