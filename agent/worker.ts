import { parentPort, workerData } from 'node:worker_threads';
import { startAgent } from './agent.js';
import type { AgentConfig } from './config.js';
import { createLogger } from '../src/model/logger.js';

/** The agent inside its worker thread (see main.ts for why); the main thread relays signals as messages. */
const cfg = (workerData as { cfg: AgentConfig }).cfg;
// Log lines travel on the same port as the "stopped" message, so none is lost when the process exits.
const log = createLogger(cfg.server.logLevel, 'agent', (line) => parentPort!.postMessage({ log: line }));
try {
  const agent = await startAgent(cfg, { log });
  parentPort!.on('message', (msg: unknown) => {
    if (msg !== 'stop') return;
    agent.stop().then(
      () => parentPort!.postMessage({ stopped: true }),
      (err: Error) => parentPort!.postMessage({ error: `shutdown failed: ${err.message}` }),
    );
  });
} catch (err) {
  parentPort!.postMessage({ error: `agent failed to start: ${(err as Error).message}` });
}
