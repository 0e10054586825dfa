import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { benchTempDir, killOnExit } from './cleanup.js';

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

const BIN = resolve(import.meta.dirname, '../../src/cli/main.js');

/**
 * Starts a real `narvi server` process on a free loopback port and waits for /ready. Without `dataDir`
 * its data goes to a temporary directory removed when the benchmark exits; the process is killed then.
 */
export async function startBenchServer(args: string[] = [], dataDir = benchTempDir()): Promise<BenchServer> {
  // BENCH_SERVER_NODE_ARGS (e.g. --cpu-prof) lets a profiling run reach the server process.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, BIN, 'server', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', '--storage.path', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((res, rej) => {
    const check = () => {
      const m = /msg="listening"[^\n]*address=http:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.once('exit', (c) => rej(new Error(`server exited (${c}): ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const r = await fetch(`${url}/ready`).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: proc.pid!,
    dataDir,
    proc,
    stop: () =>
      new Promise<void>((res) => {
        proc.once('exit', () => res());
        proc.kill('SIGTERM');
      }),
  };
}
