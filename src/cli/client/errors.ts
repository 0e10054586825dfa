/**
 * Errors a CLI user sees: one line, no stack trace. A CliError carries the exit code the process ends with —
 * 2 for a bad flag or argument (the user can fix the command line), 1 for everything the server or network did.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, 2);
}

/**
 * Runs a command's action and turns any failure into `narvi <command>: <message>` on stderr plus a non-zero
 * exit code. Unexpected errors still print one line; NARVI_DEBUG=1 shows their stack for bug reports.
 */
export async function runAction(command: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const e = err as Error;
    const code = err instanceof CliError ? err.exitCode : 1;
    const text = err instanceof CliError ? e.message : `unexpected error: ${e?.message ?? String(err)}`;
    process.stderr.write(`narvi ${command}: ${oneLine(text)}\n`);
    if (process.env.NARVI_DEBUG && !(err instanceof CliError) && e?.stack) process.stderr.write(e.stack + '\n');
    process.exitCode = code;
  }
}

/** Server messages may span lines; an error is one line so scripts can grep it. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The server answered with an HTTP error status. */
export class HttpStatusError extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, 1);
  }
}

/** The server could not be reached, or the connection broke. */
export class NetworkError extends CliError {}

/** Worth trying again later: the server is away, restarting, overloaded or not ready yet. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 429 || err.status === 408;
  return false;
}
