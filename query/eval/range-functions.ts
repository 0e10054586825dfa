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
 * rate_counter: Prometheus' rate() over the window's samples, a counter's per-second increase.
 * - A sample lower than the one before it is a counter reset: the value before the drop is added back.
 * - The increase between the first and last sample is extrapolated towards the window's edges: all the way
 *   when the gap to an edge is under 1.1 average sample intervals (another sample would have been there),
 *   else by half an interval; at the start never past the point where the counter would have been zero.
 * - Divided by the range in seconds. Fewer than two samples give 0, as in Loki.
 * `times` are nanoseconds on the same clock as the window `(windowStart, windowEnd]`.
 */
export function counterRate(
  times: Float64Array,
  values: Float64Array,
  from: number,
  to: number,
  windowStart: number,
  windowEnd: number,
  rangeSeconds: number,
): number {
  if (to - from < 2) return 0;
  const first = values[from]!;
  let increase = values[to - 1]! - first;
  let prev = first;
  for (let i = from + 1; i < to; i++) {
    const v = values[i]!;
    if (v < prev) increase += prev;
    prev = v;
  }
  const firstT = times[from]!;
  const lastT = times[to - 1]!;
  const sampled = (lastT - firstT) / 1e9;
  const average = sampled / (to - from - 1);
  const threshold = average * 1.1;
  let toStart = (firstT - windowStart) / 1e9;
  let toEnd = (windowEnd - lastT) / 1e9;
  if (toStart >= threshold) toStart = average / 2;
  if (increase > 0 && first >= 0) {
    // Extrapolating further back would mean the counter was negative before the first sample.
    const toZero = sampled * (first / increase);
    if (toZero < toStart) toStart = toZero;
  }
  if (toEnd >= threshold) toEnd = average / 2;
  return (increase * ((sampled + toStart + toEnd) / sampled)) / rangeSeconds;
}
