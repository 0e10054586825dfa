import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNarvi } from './process.js';

export { NARVI_BIN } from './process.js';

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the process wrote to stderr and stdout so far. */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait for exit. */
  kill(): Promise<void>;
}

export function tempDir(prefix = 'narvi-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Loki 3's ingest decorations (a `service_name` label, `detected_level` metadata) are on by default; suites
 * that check exact label sets start with them off, and those about them pass `decorations: true`.
 */
export const DECORATIONS_OFF = ['--limits.discover-service-name=', '--limits.discover-log-levels=false'];

/** Starts `narvi server` on an OS-chosen loopback port and waits until /ready answers 200. */
export async function startServer(opts: { dataDir?: string; args?: string[]; env?: NodeJS.ProcessEnv; waitReady?: boolean; decorations?: boolean } = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? tempDir();
  const args = ['server', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', '--storage.path', dataDir, ...(opts.decorations ? [] : DECORATIONS_OFF), ...(opts.args ?? [])];
  const p = await spawnNarvi(args, { env: opts.env, what: 'server' });
  const server: RunningServer = { url: p.url, port: p.port, dataDir, proc: p.proc, output: p.output, stop: p.stop, kill: p.kill };
  if (opts.waitReady !== false) await waitReady(p.url, p.output);
  return server;
}

export async function waitReady(url: string, output: () => string = () => '', timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${url}/ready`);
      if (r.status === 200) return;
    } catch {
      // not accepting connections yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/ready did not answer 200 within ${timeoutMs} ms; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `fn` until it returns a truthy value (condition waits, never fixed sleeps). */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One server for a whole suite: started before the first test, stopped and its data removed after the last. */
export function suiteServer(opts: Parameters<typeof startServer>[0] = {}): () => RunningServer {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startServer(opts);
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });
  return () => {
    if (!server) throw new Error('suite server not started');
    return server;
  };
}

/** Servers a test starts with the returned function are stopped and their data removed after that test. */
export function testServers(): (opts?: Parameters<typeof startServer>[0]) => Promise<RunningServer> {
  const started: RunningServer[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) {
      await s.stop();
      removeDir(s.dataDir);
    }
  });
  return async (opts) => {
    const s = await startServer(opts);
    started.push(s);
    return s;
  };
}

/**
 * For tests that kill and restart a server over the same data directory: the test keeps its current server
 * in `slot.server`; after each test that server is killed (`kill -9`) and every directory `slot.dir()` made
 * or `slot.keep()` was given is removed.
 */
export function serverSlot(): { server: RunningServer | undefined; dir(): string; keep(dir: string): string } {
  const dirs: string[] = [];
  const slot = {
    server: undefined as RunningServer | undefined,
    dir: () => slot.keep(tempDir()),
    keep: (dir: string) => {
      dirs.push(dir);
      return dir;
    },
  };
  afterEach(async () => {
    await slot.server?.kill();
    slot.server = undefined;
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return slot;
}
