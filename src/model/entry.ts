/** One log line as it travels from push to chunk. `ts` is nanoseconds since the epoch. */
export interface Entry {
  ts: bigint;
  line: string;
  /** Loki's structured metadata: the optional third element of a pushed value. */
  metadata?: Record<string, string>;
}

/** A stream as pushed: its labels (already canonical) and entries. */
export interface PushStream {
  labels: string;
  entries: Entry[];
}
