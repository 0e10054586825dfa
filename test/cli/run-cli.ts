/** Runs the built CLI (`node dist/src/cli/main.js …`) as a subprocess, as a user's shell would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { NARVI_BIN } from '../helpers/server.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of every CLI run: no inherited address or tenant, UTC, no colour variables. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  for (const k of Object.keys(env)) if (/^(NARVI|LOKI)_/.test(k) || k === 'NO_COLOR' || k === 'FORCE_COLOR') delete env[k];
  return { ...env, ...extra };
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [NARVI_BIN, ...args], { env: cliEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.input !== undefined) proc.stdin.end(opts.input);
    else proc.stdin.end();
  });
}

export interface RunningCli {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends SIGINT (as Ctrl-C would) and waits for the exit. */
  stop(): Promise<number | null>;
}

/** Starts a long-running CLI command (tail) and keeps collecting its output. */
export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const proc = spawn(process.execPath, [NARVI_BIN, ...args], { env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((res) => proc.once('close', (code) => res(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      return exited;
    },
  };
}

/** A loopback port nothing listens on: bind one, then close it. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
