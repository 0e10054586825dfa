import { Worker } from 'node:worker_threads';
import { startAgent } from './agent.js';
import type { AgentConfig } from './config.js';
import { createLogger } from '../src/model/logger.js';

/**
 * Young-generation cap of the agent's heap. V8 lets the young generation grow to 32 MB as a long-running
 * process keeps a few survivors per collection; the agent's garbage is short-lived strings, so a small young
 * generation costs little CPU and keeps a DaemonSet pod's RSS ~40 MB lower (bench/agent.ts). Heap sizes are
 * fixed when an isolate is created, hence the worker thread: its limits are ours to set, no node flags needed.
 */
const YOUNG_GENERATION_MB = 3;

/**
 * Runs the agent as the process: stops gracefully on SIGTERM/SIGINT (a second signal exits at once).
 * File tailing runs in a worker thread with a small young generation; `--stdin` runs inline (short-lived, and
 * standard input belongs to the main thread).
 */
export async function runAgentProcess(cfg: AgentConfig): Promise<void> {
  const log = createLogger(cfg.server.logLevel, 'agent');
  if (cfg.stdin.enabled) return runInline(cfg, log);

  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { cfg },
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      log.warn('second signal; exiting without waiting', { signal: sig });
      process.exit(1);
    }
    signalled = true;
    log.info('shutting down', { signal: sig });
    worker.postMessage('stop');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  worker.on('message', (msg: { log?: string; stopped?: boolean; error?: string }) => {
    if (msg.log !== undefined) {
      process.stderr.write(msg.log);
      return;
    }
    if (msg.error) {
      log.error(msg.error);
      process.exit(1);
    }
    if (msg.stopped) process.exit(0);
  });
  worker.on('error', (err) => {
    log.error('agent crashed', { err: err.stack ?? err.message });
    process.exit(1);
  });
  worker.on('exit', (code) => {
    log.error('agent worker exited unexpectedly', { code });
    process.exit(1);
  });
}

async function runInline(cfg: AgentConfig, log: ReturnType<typeof createLogger>): Promise<void> {
  let agent;
  try {
    agent = await startAgent(cfg, { log });
  } catch (err) {
    log.error('agent failed to start', { err: (err as Error).message });
    process.exitCode = 1;
    return;
  }
  const onSignal = () => {
    void agent.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await agent.finished;
  await agent.stop();
  process.exit(0);
}
