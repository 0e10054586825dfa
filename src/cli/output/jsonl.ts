/** jsonl output: one JSON object per line, written through the `ndjson` stringifier with back-pressure. */
import { once } from 'node:events';
import ndjson from 'ndjson';

export class JsonlWriter {
  private readonly stringify = ndjson.stringify();

  constructor(out: NodeJS.WritableStream) {
    this.stringify.pipe(out, { end: false });
  }

  async write(obj: unknown): Promise<void> {
    if (!this.stringify.write(obj)) await once(this.stringify, 'drain');
  }

  /** Resolves once every object has been handed to the output stream. */
  async end(): Promise<void> {
    const done = once(this.stringify, 'end');
    this.stringify.end();
    await done;
  }
}
