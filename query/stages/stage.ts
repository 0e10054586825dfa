/** What every per-entry pipeline stage sees and the one method it implements. */
import type { LabelsBuilder } from './labels-builder.js';

export interface EntryState {
  /** The current line; stages like line_format replace it. */
  line: string;
  /** Nanoseconds since the epoch. */
  ts: bigint;
  labels: LabelsBuilder;
}

export interface Stage {
  /** Returns false to drop the entry. */
  process(e: EntryState): boolean;
}
