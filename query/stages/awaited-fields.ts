/**
 * Which wanted names a hinted parser waits for before it may stop reading a line (see json-scan.ts and
 * logfmt-scan.ts): each gets a bit of a found mask. Reserved names (`__error__`, read by
 * `| __error__=""`) are extracted if a line has them but never waited for: no line is expected to carry
 * them. Past 30 names no mask fits and the scan always reads the whole line.
 */
export interface AwaitedFields {
  /** The bit of each awaited name. */
  bits: ReadonlyMap<string, number>;
  /** Every bit set: the scan ends when its found mask reaches this; 0 when it never ends early. */
  all: number;
}

export function awaitedFields(names: Iterable<string>): AwaitedFields {
  const counted = [...names].filter((n) => !n.startsWith('__'));
  const bits = new Map<string, number>();
  if (counted.length === 0 || counted.length > 30) return { bits, all: 0 };
  for (const n of counted) bits.set(n, 1 << bits.size);
  return { bits, all: (1 << counted.length) - 1 };
}
