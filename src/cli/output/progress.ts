/**
 * The one-line progress notice of a long read: rewritten in place on stderr, and only when stderr is a
 * terminal (in a log file a stream of carriage returns is noise).
 */
export class Progress {
  private shown = false;

  constructor(
    private readonly err: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly enabled: boolean = err.isTTY === true,
  ) {}

  update(text: string): void {
    if (!this.enabled) return;
    this.err.write(`\r\u001b[K${text}`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.err.write('\r\u001b[K');
    this.shown = false;
  }
}
