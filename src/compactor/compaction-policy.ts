/**
 * What the compactor may remove from a stream: entries older than a cutoff (retention) and entries a
 * predicate picks (delete requests). The retention and delete-request modules build real policies; this
 * file holds the contract and the two simple ones the compactor needs on its own.
 */
import type { Labels } from '../model/labels.js';

export interface StreamPolicy {
  /** Entries with ts < cutoff are expired (null keeps all). */
  cutoff: bigint | null;
  /**
   * Entries for which this returns true are removed (delete requests); absent when none apply. `metadata`
   * is the entry's structured metadata as the chunk decoder gives it (null when it has none).
   */
  drop?: (ts: bigint, line: Buffer, metadata: Record<string, string> | null) => boolean;
  /**
   * Whether `drop` can pick any entry of a chunk with these inclusive time bounds; absent means it may.
   * Lets a delete request of one hour leave the stream's other chunks unread.
   */
  dropsWithin?: (minTs: bigint, maxTs: bigint) => boolean;
}

export interface CompactionPolicy {
  forStream(tenant: string, labels: Labels, nowNs: bigint): StreamPolicy | Promise<StreamPolicy>;
  /** Called before a run looks at any stream: the policy fixes what the run applies. */
  beginRun?(nowMs: number): void | Promise<void>;
  /** Called after the run with whether every stream was compacted (`success`). */
  endRun?(success: boolean): void | Promise<void>;
}

const KEEP: StreamPolicy = { cutoff: null };

/** Removes nothing: compaction only merges small chunks. */
export const keepEverything: CompactionPolicy = {
  forStream: () => KEEP,
};

/** One retention period for every tenant and stream (0 keeps everything), as `limits.retention_period` without overrides. */
export function retentionCutoffPolicy(periodNs: bigint): CompactionPolicy {
  if (periodNs < 0n) throw new RangeError(`retention period must not be negative, got ${periodNs} ns`);
  if (periodNs === 0n) return keepEverything;
  return { forStream: (_tenant, _labels, nowNs) => ({ cutoff: nowNs - periodNs }) };
}
