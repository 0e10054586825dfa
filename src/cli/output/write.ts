/** Writing to stdout with back-pressure, so a slow reader (a pager, `| less`) slows the reads instead of filling memory. */
import { once } from 'node:events';

export async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/**
 * `narvi query … | head` closes stdout early: that is the reader saying it has seen enough, not an error,
 * so end quietly instead of printing an EPIPE stack.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}
