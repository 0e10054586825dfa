import { canonicalLabels, type Labels } from '../../model/labels.js';
import type { LogEntry } from '../client/log-entry.js';
import { paint, colorFor } from './colors.js';
import { announcedLabels, commonLabels, visibleLabels } from './common-labels.js';
import type { EntryPrinter, PrinterOptions } from './entry-printer.js';
import { formatTime } from './time-format.js';
import { write } from './write.js';

// Label texts are cached per stream; a long read over many streams must not grow the cache without bound.
const MAX_CACHED_STREAMS = 10_000;

/**
 * The default output: `<time> <labels that differ> <line>`, labels padded to one column and coloured by
 * stream on a terminal. The labels all streams share are worked out from the first entries printed and
 * announced on stderr; when a later page or a live tail brings a stream that lacks one of them, the
 * narrower set is announced again before its lines (as logcli does), so no line is read with a label
 * its stream does not have.
 */
export class DefaultPrinter implements EntryPrinter {
  private common: Labels | null = null;
  /** The common labels last announced, as printed ('{}' for none). */
  private announced = '{}';
  private width = 0;
  private readonly texts = new Map<string, string>();

  constructor(private readonly o: PrinterOptions) {}

  async print(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.common === null) this.announce(entries);
    else this.narrow(entries);
    const labelTexts = entries.map((e) => this.labelText(e));
    for (const t of labelTexts) if (t.length > this.width) this.width = t.length;
    let text = '';
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      let labels = labelTexts[i]!;
      if (this.width > 0) {
        const padded = labels.padEnd(this.width);
        labels = (this.o.color && labels ? paint(labels, colorFor(e.key)) + padded.slice(labels.length) : padded) + ' ';
      }
      text += `${formatTime(e.ts, this.o.tz)} ${labels}${e.line}\n`;
      if (text.length > 65_536) {
        await write(this.o.out, text);
        text = '';
      }
    }
    if (text) await write(this.o.out, text);
  }

  async finish(): Promise<void> {}

  private announce(entries: readonly LogEntry[]): void {
    const streams = new Map<string, Labels>();
    for (const e of entries) streams.set(e.key, e.labels);
    this.common = commonLabels([...streams.values()]);
    this.announced = canonicalLabels(announcedLabels(this.common, this.o.filter));
    if (!this.o.quiet && this.announced !== '{}') this.o.err.write(`Common labels: ${this.announced}\n`);
  }

  /**
   * Drops from the common set what a stream new to this printer does not share. Streams already seen were
   * checked when they came (their label text is cached), so the per-entry cost is one map lookup.
   */
  private narrow(entries: readonly LogEntry[]): void {
    const common = this.common!;
    let changed = false;
    for (const e of entries) {
      if (this.texts.has(e.key)) continue;
      for (const k of Object.keys(common)) {
        if (e.labels[k] !== common[k]) {
          delete common[k];
          changed = true;
        }
      }
    }
    if (!changed) return;
    // Every stream's text depends on the common set: lines printed from now on show the labels just dropped.
    this.texts.clear();
    const shown = canonicalLabels(announcedLabels(common, this.o.filter));
    if (shown === this.announced) return;
    this.announced = shown;
    if (!this.o.quiet) this.o.err.write(`Common labels: ${shown}\n`);
  }

  private labelText(e: LogEntry): string {
    let t = this.texts.get(e.key);
    if (t === undefined) {
      const v = visibleLabels(e.labels, this.common ?? {}, this.o.filter);
      t = Object.keys(v).length > 0 ? canonicalLabels(v) : '';
      if (this.texts.size >= MAX_CACHED_STREAMS) this.texts.clear();
      this.texts.set(e.key, t);
    }
    return t;
  }
}
