import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { parseBytes } from '../model/time.js';

const MiB = 1024 * 1024;

/** The container's memory limit when it has one (cgroup v2, then v1), else the machine's memory. */
export function memoryLimitBytes(): number {
  let limit = totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    // "max" (v2) or a near-2^63 number (v1) both mean no limit.
    const n = Number(text);
    if (Number.isFinite(n) && n > 0 && n < limit) limit = n;
  }
  return limit;
}

/**
 * `ingester.max_unflushed_bytes`: `auto` is 1/16 of the memory limit, kept between 16 MiB and 256 MiB —
 * unflushed data is held compressed, and the process needs the rest for queries and pushes in flight,
 * so this keeps a default server well under 1 GB. `0` turns the budget off.
 */
export function resolveUnflushedBudget(v: unknown, limit: () => number = memoryLimitBytes): number {
  if (v === 'auto') return Math.round(Math.min(256 * MiB, Math.max(16 * MiB, limit() / 16)));
  return parseBytes(v as string | number);
}

/**
 * `distributor.max_inflight_push_bytes`: `auto` is 1/16 of the memory limit, kept between 32 MiB and
 * 256 MiB — the same share as the unflushed budget, so the two together take at most 1/8 of the memory
 * (512 MiB on a big machine) and a default server stays under 1 GB with room for queries. 32 MiB still
 * admits several ordinary pushes (agents send ~1 MB batches) at once, and a bigger single push always
 * goes through alone. `0` turns the budget off.
 */
export function resolveInflightPushBudget(v: unknown, limit: () => number = memoryLimitBytes): number {
  if (v === 'auto') return Math.round(Math.min(256 * MiB, Math.max(32 * MiB, limit() / 16)));
  return parseBytes(v as string | number);
}
