import { canonicalLabels, type Labels } from '../src/model/labels.js';
import { nowNs } from '../src/model/time.js';
import type { Sink } from './batcher.js';
import { CriParser } from './cri.js';
import { DockerParser } from './docker.js';
import type { AgentMetrics } from './metrics.js';
import { Multiline, type MultilineConfig } from './multiline.js';
import type { Format, LineParser, ParsedLine } from './parsed-line.js';
import type { Pipeline } from './pipeline.js';
import { PlainParser } from './plain.js';
import type { FilePosition } from './positions.js';
import { overLimit, truncateUtf8 } from './truncate.js';

export interface ChainOptions {
  format: Format;
  labels: Labels;
  multiline?: MultilineConfig;
  maxLineSize: number;
  pipeline: Pipeline;
  sink: Sink;
  metrics: AgentMetrics;
}

/**
 * Everything between a raw line and the batcher for one source: format parsing, multiline joining, the size
 * cap, the pipeline and labelling. It also decides how far the source's position may move with each entry:
 * never past content still held back (a partial CRI line, an open multiline block).
 */
export class RecordChain {
  private readonly parser: LineParser;
  private readonly multiline: Multiline | undefined;
  private readonly streamLabels = new Map<string, string>();
  private labels: Labels;
  fp: FilePosition | undefined;
  private readonly onParsed: (p: ParsedLine) => void;
  private readonly onRecord: (p: ParsedLine) => void;
  private readonly truncated: () => void;

  constructor(private readonly o: ChainOptions) {
    this.labels = o.labels;
    this.truncated = () => o.metrics.truncatedLines.inc();
    this.parser = o.format === 'cri' ? new CriParser(o.maxLineSize, this.truncated) : o.format === 'docker' ? new DockerParser(o.maxLineSize, this.truncated) : new PlainParser();
    this.multiline = o.multiline ? new Multiline(o.multiline, o.maxLineSize, this.truncated) : undefined;
    this.onRecord = (p) => this.record(p);
    this.onParsed = this.multiline ? (p) => this.multiline!.push(p, Date.now(), this.onRecord) : this.onRecord;
  }

  /** Labels changed (pod metadata arrived): later entries use the new set. */
  setLabels(labels: Labels): void {
    this.labels = labels;
    this.streamLabels.clear();
  }

  push(raw: string, start: number, end: number, readTs: bigint): void {
    this.parser.push(raw, start, end, readTs, this.onParsed);
  }

  /** Sends multiline blocks that waited long enough. */
  tick(): void {
    this.multiline?.flushExpired(Date.now(), this.onRecord);
  }

  /** The source ended for good: emit everything held. */
  flush(): void {
    this.parser.flush(this.onParsed);
    this.multiline?.flush(this.onRecord);
  }

  reset(): void {
    this.parser.reset();
    this.multiline?.reset();
  }

  private heldStart(): number {
    const a = this.parser.heldStart();
    const b = this.multiline?.heldStart();
    let m = Number.POSITIVE_INFINITY;
    if (a !== undefined) m = a;
    if (b !== undefined && b < m) m = b;
    return m;
  }

  private record(p: ParsedLine): void {
    let line = p.line;
    if (overLimit(line, this.o.maxLineSize)) {
      line = truncateUtf8(line, this.o.maxLineSize);
      this.truncated();
    }
    const fp = this.fp;
    const held = fp ? this.heldStart() : 0;
    const ack = p.end < held ? p.end : held;
    const extra = this.o.pipeline.run(line);
    if (extra === null) {
      this.o.metrics.droppedEntries.inc({ reason: 'drop_stage' });
      if (fp) this.o.sink.mark(fp, fp.gen, ack);
      return;
    }
    const stream = this.streamOf(p.stream, extra);
    if (fp) this.o.sink.add(stream, p.ts, line, fp, fp.gen, ack, p.end);
    else this.o.sink.add(stream, p.ts, line);
  }

  private streamOf(stream: string | undefined, extra: Labels): string {
    let hasExtra = false;
    for (const _ in extra) {
      hasExtra = true;
      break;
    }
    if (!hasExtra) {
      const key = stream ?? '';
      let s = this.streamLabels.get(key);
      if (s === undefined) {
        s = canonicalLabels(stream === undefined ? this.labels : { ...this.labels, stream });
        this.streamLabels.set(key, s);
      }
      return s;
    }
    // Pipeline labels win: a static_labels or promoted field may deliberately override a discovered one.
    return canonicalLabels(stream === undefined ? { ...this.labels, ...extra } : { ...this.labels, stream, ...extra });
  }
}

/** Read time for records without their own timestamp: strictly increasing, so order within a file survives. */
export class MonotonicClock {
  private last = 0n;
  now(): bigint {
    let t = nowNs();
    if (t <= this.last) t = this.last + 1n;
    this.last = t;
    return t;
  }
}
