import type { BlockInfo } from './chunk-format.js';

/** A decoded block's timestamps must start and end at the bounds its table entry records. */
export function checkTimestampBounds(ts: BigInt64Array, info: BlockInfo, corrupt: (problem: string) => never): void {
  const count = ts.length;
  if (ts[0] !== info.minTs) corrupt(`first timestamp ${ts[0]} does not match the block's min ${info.minTs}`);
  if (ts[count - 1] !== info.maxTs) corrupt(`last timestamp ${ts[count - 1]} does not match the block's max ${info.maxTs}`);
}
