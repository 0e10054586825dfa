import type { RangeKind } from './range-kind.js';
import { lessForMin, greaterForMax } from './range-kind.js';
import { SampleDeque } from './sample-deque.js';

/**
 * The incremental aggregate of one sliding window: the samples of one series coming from one stream,
 * in ascending time. Adding and evicting a sample is O(1) amortized; a step reads the state without
 * touching the samples. Running float sums are compensated (Neumaier) and rebuilt from the samples
 * after as many evictions as the window holds, so rounding drift stays bounded at O(1) amortized cost.
 * Non-finite values are counted apart so that an Inf leaving the window does not leave a NaN behind.
 */
export class RangeWindow {
  readonly samples = new SampleDeque();
  /** Index of the next step this window has not yet reported. */
  nextStep = 0;

  // kind 'sum' and 'var': finite values only; non-finite ones are counted.
  sum = 0;
  comp = 0;
  mean = 0;
  m2 = 0;
  finite = 0;
  nan = 0;
  posInf = 0;
  negInf = 0;
  private evictions = 0;

  /** Candidates for min/max: values in decreasing preference, oldest first. */
  private readonly mono: SampleDeque | undefined;

  constructor(readonly kind: RangeKind) {
    if (kind === 'min' || kind === 'max') this.mono = new SampleDeque();
  }

  get size(): number {
    return this.samples.size;
  }

  add(rel: number, v: number): void {
    this.samples.push(rel, v);
    switch (this.kind) {
      case 'sum':
      case 'var':
        this.include(v);
        break;
      case 'min':
      case 'max': {
        const mono = this.mono!;
        const better = this.kind === 'min' ? lessForMin : greaterForMax;
        // An older candidate that is not strictly better than the newcomer can never be the answer again.
        while (mono.size > 0 && !better(mono.val[mono.tail - 1]!, v)) mono.popTail();
        mono.push(rel, v);
        break;
      }
      default:
        break;
    }
  }

  /** Drops samples at or before `startRel`: windows are open on the left. */
  evictThrough(startRel: number): void {
    const s = this.samples;
    let evicted = false;
    while (s.size > 0 && s.rel[s.head]! <= startRel) {
      const v = s.val[s.head]!;
      s.shift();
      if (this.kind === 'sum' || this.kind === 'var') {
        this.exclude(v);
        evicted = true;
      }
    }
    if (this.mono) {
      const m = this.mono;
      while (m.size > 0 && m.rel[m.head]! <= startRel) m.shift();
    }
    if (evicted) {
      if (s.size === 0) this.resetSums();
      else if (this.evictions >= s.size) this.rebuild();
    }
  }

  /** The window's sum of values, with Inf/NaN semantics of a plain in-order sum. */
  total(): number {
    if (this.nan > 0 || (this.posInf > 0 && this.negInf > 0)) return NaN;
    if (this.posInf > 0) return Infinity;
    if (this.negInf > 0) return -Infinity;
    return this.sum + this.comp;
  }

  /** Mean for variance; NaN when a non-finite value is in the window (as Welford over it would give). */
  varMean(): number {
    return this.nan + this.posInf + this.negInf > 0 ? NaN : this.mean;
  }

  extreme(): number {
    const m = this.mono!;
    return m.val[m.head]!;
  }

  firstRel(): number {
    return this.samples.rel[this.samples.head]!;
  }

  firstVal(): number {
    return this.samples.val[this.samples.head]!;
  }

  lastRel(): number {
    return this.samples.rel[this.samples.tail - 1]!;
  }

  lastVal(): number {
    return this.samples.val[this.samples.tail - 1]!;
  }

  private include(v: number): void {
    if (Number.isNaN(v)) this.nan++;
    else if (v === Infinity) this.posInf++;
    else if (v === -Infinity) this.negInf++;
    else {
      this.addFinite(v);
      if (this.kind === 'var') {
        this.finite++;
        const d = v - this.mean;
        this.mean += d / this.finite;
        this.m2 += d * (v - this.mean);
      }
    }
  }

  private exclude(v: number): void {
    this.evictions++;
    if (Number.isNaN(v)) this.nan--;
    else if (v === Infinity) this.posInf--;
    else if (v === -Infinity) this.negInf--;
    else {
      this.addFinite(-v);
      if (this.kind === 'var') {
        if (this.finite <= 1) {
          this.finite = 0;
          this.mean = 0;
          this.m2 = 0;
        } else {
          const oldMean = this.mean;
          this.finite--;
          this.mean = oldMean - (v - oldMean) / this.finite;
          this.m2 -= (v - oldMean) * (v - this.mean);
          if (this.m2 < 0) this.m2 = 0;
        }
      }
    }
  }

  private addFinite(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) this.comp += this.sum - t + x;
    else this.comp += x - t + this.sum;
    this.sum = t;
  }

  private resetSums(): void {
    this.sum = this.comp = this.mean = this.m2 = 0;
    this.finite = this.nan = this.posInf = this.negInf = 0;
    this.evictions = 0;
  }

  private rebuild(): void {
    this.resetSums();
    const s = this.samples;
    for (let i = s.head; i < s.tail; i++) this.include(s.val[i]!);
  }
}
