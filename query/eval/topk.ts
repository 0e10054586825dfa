/**
 * topk/bottomk selection exactly as Prometheus and Loki do it, so ties resolve the same way: a binary
 * heap of at most k entries with the weakest on top (NaN weakest of all), where a newcomer replaces the
 * top only when strictly stronger. Mirrors the sift-up/sift-down of Go's container/heap.
 * Returns the positions in `values` of the chosen entries.
 */
export function selectTopK(values: number[], k: number, bottom: boolean): number[] {
  const heap: number[] = [];
  // less(a, b): a is weaker than b, i.e. belongs nearer the top of the heap.
  const less = bottom
    ? (a: number, b: number) => Number.isNaN(values[a]!) || values[a]! > values[b]!
    : (a: number, b: number) => Number.isNaN(values[a]!) || values[a]! < values[b]!;
  const stronger = bottom
    ? (v: number, top: number) => top > v || (Number.isNaN(top) && !Number.isNaN(v))
    : (v: number, top: number) => top < v || (Number.isNaN(top) && !Number.isNaN(v));

  const up = (j: number) => {
    while (j > 0) {
      const i = (j - 1) >> 1;
      if (!less(heap[j]!, heap[i]!)) break;
      [heap[i], heap[j]] = [heap[j]!, heap[i]!];
      j = i;
    }
  };
  const down = (i0: number): boolean => {
    let i = i0;
    const n = heap.length;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && less(heap[j2]!, heap[j1]!)) j = j2;
      if (!less(heap[j]!, heap[i]!)) break;
      [heap[i], heap[j]] = [heap[j]!, heap[i]!];
      i = j;
    }
    return i > i0;
  };

  for (let idx = 0; idx < values.length; idx++) {
    if (heap.length < k) {
      heap.push(idx);
      up(heap.length - 1);
    } else if (stronger(values[idx]!, values[heap[0]!]!)) {
      heap[0] = idx;
      if (!down(0)) up(0);
    }
  }
  return heap;
}
