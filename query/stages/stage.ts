/** What every per-entry pipeline stage sees and the one method it implements. */
import type { LabelsBuilder } from './labels-builder.js';

export interface EntryState {
  /** The current line; stages like line_format replace it. */
  line: string;
  /** Nanoseconds since the epoch. */
  ts: bigint;
  labels: LabelsBuilder;
  /**
   * The line's UTF-8 bytes in the batch, `bytes[byteStart, byteEnd)`, while no stage has rewritten it
   * (null or absent otherwise): parsers that only need a few fields scan these without decoding the line.
   */
  readonly bytes?: Buffer | null;
  readonly byteStart?: number;
  readonly byteEnd?: number;
}

export interface Stage {
  /** Returns false to drop the entry. */
  process(e: EntryState): boolean;
}
