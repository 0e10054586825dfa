/**
 * Fault injection for the crash-safety tests, off unless the environment asks:
 *  - NARVI_COMPACTOR_CRASH_AT=after-write|after-index|after-delete[:N] kills this process with SIGKILL
 *    (as `kill -9` would) the Nth time (default first) the compactor reaches that point;
 *  - NARVI_COMPACTOR_STEP_DELAY_MS=n waits n ms before each index change, so a test can overlap two runs.
 */
const [crashAt, crashNth] = (process.env.NARVI_COMPACTOR_CRASH_AT ?? '').split(':');
let crashCountdown = Number(crashNth ?? 1) || 1;
const delayMs = Number(process.env.NARVI_COMPACTOR_STEP_DELAY_MS ?? 0) || 0;

export function crashPoint(point: 'after-write' | 'after-index' | 'after-delete'): void {
  if (crashAt !== point || --crashCountdown > 0) return;
  process.stderr.write(`NARVI_COMPACTOR_CRASH_AT=${point}: killing this process\n`);
  process.kill(process.pid, 'SIGKILL');
}

export async function stepDelay(): Promise<void> {
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
}
