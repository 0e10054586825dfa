/**
 * The aggregation functions that need a whole window of samples at once.
 */

/**
 * Prometheus' quantile: φ-quantile with linear interpolation between the two nearest ranks; φ < 0 gives
 * -Inf, φ > 1 gives +Inf, an empty input NaN. Sorts `values` in place.
 */
export function quantile(phi: number, values: Float64Array | number[]): number {
  const n = values.length;
  if (n === 0 || Number.isNaN(phi)) return NaN;
  if (phi < 0) return -Infinity;
  if (phi > 1) return Infinity;
  // NaN first, as Prometheus' heap ordering puts it.
  const sorted = Array.from(values).sort((x, y) => (Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : Number.isNaN(y) ? 1 : x - y));
  const rank = phi * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/**
 * rate_counter: the increase of a counter over the window, adding back the value before each reset (a
 * sample lower than its predecessor), divided by the range in seconds. Fewer than two samples give 0.
 * No extrapolation to the window edges: see the report for how this relates to Loki.
 */
export function counterRate(values: Float64Array, from: number, to: number, rangeSeconds: number): number {
  if (to - from < 2) return 0;
  let increase = values[to - 1]! - values[from]!;
  let prev = 0;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    if (v < prev) increase += prev;
    prev = v;
  }
  return increase / rangeSeconds;
}
