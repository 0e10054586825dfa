import type { Matcher } from '../../query/ast.js';
import type { Labels } from '../model/labels.js';
import type { LabelIndex } from '../store/label-index.js';
import { openPiece, pieceMaxTs } from '../ingester/memory-piece.js';
import type { MemorySource } from './memory-source.js';
import type { Pacer } from './query-lifetime.js';
import { resolveStreams } from './resolve-streams.js';
import type { StreamCutoff } from '../store/retention.js';

export interface VolumeGuard extends Pacer {
  race<T>(p: Promise<T>): Promise<T>;
}

export interface VolumeSeries {
  metric: Labels;
  /** Bytes of lines per step: `values[i]` covers (t_i − step, t_i] with t_i = start + i·step. */
  values: number[];
}

/**
 * Bytes of log lines per label group and step, as Loki's volume endpoints report them. Entries still in
 * memory count exactly; a flushed chunk's bytes are spread evenly over its time range (the index keeps
 * sizes per chunk, not per entry), as Loki's index-statistics volumes are approximate too.
 */
export async function volumeSeries(
  index: LabelIndex,
  memory: MemorySource,
  tenant: string,
  matchers: Matcher[],
  by: string[],
  start: bigint,
  end: bigint,
  step: bigint,
  /** What bounds the work: `pace` is awaited between streams, `race` around the ingesters' answer (see QueryLifetime). */
  guard?: VolumeGuard,
  /** Each stream's retention cutoff: older entries count nothing, and a stream left with none is not reported. */
  cutoff?: StreamCutoff,
  /**
   * `series` (Loki's default): one result per distinct set of the `by` labels. `labels`: one result per label
   * name, `{name: ""}`, holding the bytes of every stream carrying that label (only the names in `by`, when
   * given).
   */
  aggregateBy: 'series' | 'labels' = 'series',
): Promise<VolumeSeries[]> {
  const n = Number((end - start) / step) + 1;
  const groups = new Map<string, VolumeSeries>();
  const group = (metric: Labels): VolumeSeries => {
    const key = JSON.stringify(metric);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { metric, values: new Array<number>(n).fill(0) }));
    return g;
  };
  const groupsOf = (labels: Labels): VolumeSeries[] => {
    if (aggregateBy === 'labels') {
      const names = by.length > 0 ? by.filter((k) => labels[k] !== undefined) : Object.keys(labels);
      return names.map((k) => group({ [k]: '' }));
    }
    const metric: Labels = {};
    for (const k of by) if (labels[k] !== undefined) metric[k] = labels[k]!;
    return [group(metric)];
  };
  // The bucket whose window (t − step, t] holds ts.
  const bucketOf = (ts: bigint): number => {
    if (ts <= start) return 0;
    const i = (ts - start + step - 1n) / step;
    return i >= BigInt(n) ? -1 : Number(i);
  };
  const lo = start - step;
  const race = <T>(p: Promise<T>): Promise<T> => (guard ? guard.race(p) : p);
  for (const s of await resolveStreams(index, tenant, matchers, guard)) {
    if (guard?.due()) await guard.pace();
    const c = cutoff?.(s.labels) ?? null;
    const from = c !== null && c > lo ? c : lo;
    if (from > end) continue;
    let gs: VolumeSeries[] | null = null;
    for (const ref of index.chunksOf(s.streamId, from, end + 1n)) {
      gs ??= groupsOf(s.labels);
      const span = ref.maxTs - ref.minTs + 1n;
      // A chunk straddling the cutoff counts only its share after it, spread as the rest is.
      const minTs = c !== null && ref.minTs < c ? c : ref.minTs;
      const first = bucketOf(minTs > lo ? minTs : lo + 1n);
      const last = bucketOf(ref.maxTs < end ? ref.maxTs : end);
      if (first < 0) continue;
      const to = last < 0 ? n - 1 : last;
      for (let i = first; i <= to; i++) {
        const wStart = start + BigInt(i) * step - step;
        const wEnd = start + BigInt(i) * step;
        const a = minTs > wStart ? minTs : wStart + 1n;
        const b = ref.maxTs < wEnd ? ref.maxTs : wEnd;
        if (b >= a) for (const g of gs) g.values[i]! += (ref.rawSize * Number(b - a + 1n)) / Number(span);
      }
    }
  }
  for (const snap of await race(memory.select(tenant, matchers, lo, end + 1n, 'copy', guard))) {
    if (guard?.due()) await guard.pace();
    const c = cutoff?.(snap.labels) ?? null;
    const from = c !== null && c > lo ? c : lo + 1n;
    const pieces = snap.pieces.filter((p) => pieceMaxTs(p) >= from);
    if (pieces.length === 0) continue;
    const gs = groupsOf(snap.labels);
    for (const p of pieces) {
      // One block decompressed at a time, dropped before the next.
      const b = openPiece(p, `in-memory block of ${JSON.stringify(snap.labels)}`);
      for (let i = 0; i < b.count; i++) {
        const k = bucketOf(b.ts[i]!);
        if (k >= 0 && b.ts[i]! >= from) for (const g of gs) g.values[k]! += b.lineOffsets[i + 1]! - b.lineOffsets[i]!;
      }
    }
  }
  for (const g of groups.values()) for (let i = 0; i < n; i++) g.values[i] = Math.round(g.values[i]!);
  return [...groups.values()];
}
