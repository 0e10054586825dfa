/**
 * One log record after format parsing, before labels: what the CRI, docker and plain parsers emit and what
 * multiline joining and the pipeline consume. `start`/`end` are the byte offsets in the file of the first and
 * past the last raw line it came from: `end` is where a saved position may move once it is acknowledged,
 * `start` is what must not be skipped while it is still held back.
 */
export interface ParsedLine {
  ts: bigint;
  line: string;
  /** `stdout`/`stderr` for CRI and docker records; becomes the `stream` label. */
  stream?: string;
  start: number;
  end: number;
}

export type Emit = (p: ParsedLine) => void;

/** Turns raw lines of one file (without the newline) into records. Holds partial records between calls. */
export interface LineParser {
  push(raw: string, start: number, end: number, readTs: bigint, emit: Emit): void;
  /** Start offset of the oldest content held back, if any. */
  heldStart(): number | undefined;
  /** Emits whatever is held (the file ended for good, e.g. it was rotated away). */
  flush(emit: Emit): void;
  /** Forgets held content (the file was truncated). */
  reset(): void;
}

export type Format = 'cri' | 'docker' | 'plain';
