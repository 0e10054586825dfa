import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
const procs = new Set<ChildProcess>();
let installed = false;

/**
 * Whatever way a benchmark ends — done, thrown, Ctrl-C, SIGTERM — the servers it started are killed and
 * its temporary directories removed, so runs do not pile gigabytes up under /tmp.
 */
function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  });
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));
}

/** A fresh directory under the system's temp directory, removed when the benchmark process exits. */
export function benchTempDir(prefix = 'narvi-bench-'): string {
  install();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** A child process killed (if still running) when the benchmark process exits. */
export function killOnExit(proc: ChildProcess): void {
  install();
  procs.add(proc);
  proc.once('exit', () => procs.delete(proc));
}
