import type { Labels } from '../../src/model/labels.js';
import { QueryEvalError } from './errors.js';
import { labelsKey } from './label-set.js';

/** One series of an intermediate result: a value per step of the grid, where `present` says it has one. */
export interface Series {
  labels: Labels;
  key: string;
  values: Float64Array;
  present: Uint8Array;
}

/**
 * The value of a sample expression over the whole step grid. Insertion order is kept: it is the order
 * sort()/sort_desc() produce for instant queries.
 */
export class SeriesSet {
  private readonly byKey = new Map<string, Series>();

  constructor(readonly steps: number) {}

  get size(): number {
    return this.byKey.size;
  }

  [Symbol.iterator](): IterableIterator<Series> {
    return this.byKey.values();
  }

  get(key: string): Series | undefined {
    return this.byKey.get(key);
  }

  series(labels: Labels, key = labelsKey(labels)): Series {
    let s = this.byKey.get(key);
    if (!s) {
      s = { labels, key, values: new Float64Array(this.steps), present: new Uint8Array(this.steps) };
      this.byKey.set(key, s);
    }
    return s;
  }

  /** Sets a point; two different inputs landing on the same labels at the same step is an error, as in Prometheus. */
  put(labels: Labels, key: string, step: number, value: number): void {
    const s = this.series(labels, key);
    if (s.present[step]) throw new QueryEvalError('vector cannot contain metrics with the same labelset');
    s.present[step] = 1;
    s.values[step] = value;
  }

  /** Drops series without any point (intermediate steps may create and then filter them). */
  prune(): void {
    for (const [k, s] of this.byKey) if (!s.present.includes(1)) this.byKey.delete(k);
  }
}

/** A number literal, or arithmetic over literals only: the same value at every step. */
export interface ScalarValue {
  kind: 'scalar';
  value: number;
}

export type EvalValue = SeriesSet | ScalarValue;

export function isScalar(v: EvalValue): v is ScalarValue {
  return !(v instanceof SeriesSet);
}
