import type { LogEntry } from '../client/log-entry.js';
import type { EntryPrinter } from './entry-printer.js';
import { write } from './write.js';

/** `--output raw`: the log line alone, as it was pushed — for piping into other tools. */
export class RawPrinter implements EntryPrinter {
  constructor(private readonly out: NodeJS.WritableStream) {}

  async print(entries: readonly LogEntry[]): Promise<void> {
    let text = '';
    for (const e of entries) {
      text += e.line + '\n';
      if (text.length > 65_536) {
        await write(this.out, text);
        text = '';
      }
    }
    if (text) await write(this.out, text);
  }

  async finish(): Promise<void> {}
}
