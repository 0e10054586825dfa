import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system, every thread) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/**
 * Waits until the process uses less than `maxCpu` CPU-seconds over a window of `windowMs`; resolves with
 * the milliseconds that took. Throws after `timeoutMs` with the last window's figure.
 */
export async function waitCpuIdle(pid: number, opts: { windowMs?: number; maxCpu?: number; timeoutMs?: number } = {}): Promise<number> {
  const windowMs = opts.windowMs ?? 500;
  const maxCpu = opts.maxCpu ?? 0.15;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const t0 = Date.now();
  let last = 0;
  while (Date.now() - t0 < timeoutMs) {
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, windowMs));
    last = cpuSeconds(pid) - before;
    if (last < maxCpu) return Date.now() - t0 - windowMs;
  }
  throw new Error(`process ${pid} still used ${last.toFixed(2)} CPU-seconds per ${windowMs} ms after ${timeoutMs} ms`);
}
