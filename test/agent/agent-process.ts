import { spawn, type ChildProcess } from 'node:child_process';
import { NARVI_BIN } from '../helpers/server.js';

export interface RunningAgentProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait for exit. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts a real `narvi agent` process and waits for its "listening" line (port 0 → OS-chosen port). */
export async function startAgentProcess(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {}): Promise<RunningAgentProcess> {
  const proc = spawn(process.execPath, [NARVI_BIN, 'agent', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', ...args], {
    env: { ...process.env, ...opts.env },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`agent did not report its address within 20s; output:\n${out}`)), 20_000);
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
      rej(new Error(`agent exited with code ${code} before listening; output:\n${out}`));
    });
  });
  return {
    url,
    proc,
    output: () => out,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A port that was free a moment ago, so a restarted server can come back where the agent expects it. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
