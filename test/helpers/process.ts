import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** The built binary; `npm test` builds it first (pretest). */
export const NARVI_BIN = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface NarviProcess {
  /** The address from the process's `msg="listening" … address=…` log line. */
  url: string;
  port: number;
  proc: ChildProcess;
  exited: Promise<number | null>;
  /** Everything the process wrote to stderr and stdout so far. */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait for exit. */
  kill(): Promise<void>;
}

/**
 * Starts `narvi <args>` and waits for its "listening" log line, which carries the address it bound (tests
 * pass port 0, so parallel suites never collide).
 */
export async function spawnNarvi(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore'; what?: string } = {}): Promise<NarviProcess> {
  const what = opts.what ?? `narvi ${args[0]}`;
  const proc = spawn(process.execPath, [NARVI_BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what} did not report its address within 30s; output:\n${out}`)), 30_000);
    const check = () => {
      const m = /msg="listening"[^\n]*address=(http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited with code ${code} before listening; output:\n${out}`));
    });
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    exited,
    output: () => out,
    async stop() {
      if (alive()) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (alive()) proc.kill('SIGKILL');
      await exited;
    },
  };
}
