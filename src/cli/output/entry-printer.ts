/** The printers of log entries, one per --output mode, behind one interface so paging and tailing share them. */
import type { LogEntry } from '../client/log-entry.js';
import type { OutputMode } from '../client/options.js';
import type { LabelFilter } from './common-labels.js';
import type { TimeZone } from './time-format.js';

export interface EntryPrinter {
  /** Prints entries in the order given; resolves when the output can take more. */
  print(entries: readonly LogEntry[]): Promise<void>;
  finish(): Promise<void>;
}

export interface PrinterOptions {
  mode: OutputMode;
  quiet: boolean;
  filter: LabelFilter;
  tz: TimeZone;
  out: NodeJS.WritableStream;
  /** Where notices (common labels) go. */
  err: NodeJS.WritableStream;
  color: boolean;
}

export async function createEntryPrinter(o: PrinterOptions): Promise<EntryPrinter> {
  switch (o.mode) {
    case 'raw':
      return new (await import('./raw-printer.js')).RawPrinter(o.out);
    case 'jsonl':
      return new (await import('./jsonl-printer.js')).JsonlPrinter(o);
    default:
      return new (await import('./default-printer.js')).DefaultPrinter(o);
  }
}
