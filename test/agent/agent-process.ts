import { spawnNarvi, type NarviProcess } from '../helpers/process.js';

export type RunningAgentProcess = NarviProcess;

/** Starts a real `narvi agent` process and waits for its "listening" line (port 0 → OS-chosen port). */
export function startAgentProcess(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {}): Promise<RunningAgentProcess> {
  return spawnNarvi(['agent', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', ...args], { ...opts, what: 'agent' });
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
