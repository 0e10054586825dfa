import type { LogEntry } from '../client/log-entry.js';
import { filteredLabels } from './common-labels.js';
import type { EntryPrinter, PrinterOptions } from './entry-printer.js';
import { JsonlWriter } from './jsonl.js';
import { formatTime } from './time-format.js';

/**
 * `--output jsonl`: `{"timestamp":"<RFC3339Nano>","labels":{…},"line":"…"}` per entry. The timestamp keeps
 * all nine digits so nothing is lost; labels are the stream's full set (filters apply, common labels stay).
 */
export class JsonlPrinter implements EntryPrinter {
  private readonly writer: JsonlWriter;

  constructor(private readonly o: PrinterOptions) {
    this.writer = new JsonlWriter(o.out);
  }

  async print(entries: readonly LogEntry[]): Promise<void> {
    for (const e of entries) {
      const obj: Record<string, unknown> = { timestamp: formatTime(e.ts, this.o.tz, 'ns') };
      if (this.o.filter.show) obj.labels = filteredLabels(e.labels, this.o.filter);
      obj.line = e.line;
      await this.writer.write(obj);
    }
  }

  async finish(): Promise<void> {
    await this.writer.end();
  }
}
