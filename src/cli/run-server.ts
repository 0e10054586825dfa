import v8 from 'node:v8';
import { ConfigError, loadConfig } from '../config/load.js';
import type { IgnoredSetting } from '../config/loki-compat.js';
import { knownPaths } from '../config/merge.js';
import { DEFAULTS } from '../config/defaults.js';
import { DESCRIPTIONS } from '../config/descriptions.js';
import { createLogger } from '../model/logger.js';
import { DataDirLockedError } from '../server/data-dir-lock.js';
import { startNarvi } from '../server/server.js';

function usage(): string {
  const lines = [
    'usage: narvi server [--config.file FILE] [--config.expand-env] [--section.key value …]',
    '  --config.expand-env   replace ${VAR} and ${VAR:default} in the config file by the environment (as Loki)',
    '  flags take one dash or two (-config.file=loki.yaml works as in Loki)',
    '',
    'settings (YAML key → flag, default), each with what it does:'];
  for (const p of knownPaths()) {
    let v: unknown = DEFAULTS;
    for (const part of p.split('.')) v = (v as Record<string, unknown>)[part];
    lines.push(`  ${p.padEnd(44)} --${p.replace(/_/g, '-')}  (${JSON.stringify(v)})`);
    lines.push(`      ${DESCRIPTIONS[p] ?? ''}`);
  }
  lines.push(
    '',
    'Every setting can also come from the environment: NARVI_<PATH IN CAPITALS, dots as underscores>.',
    "A Loki config file loads too: Loki's names (limits_config, common.path_prefix, common.storage.s3, …) map onto",
    'the settings above, and Loki settings with no meaning here are skipped with one warning each.',
  );
  return lines.join('\n') + '\n';
}

/** Loads the configuration, starts the target's components, and shuts down cleanly on SIGTERM/SIGINT. */
export async function runServer(args: string[]): Promise<void> {
  // Pushes and queries allocate many short-lived buffers: a larger young generation (V8 grows it up to this
  // as needed) cuts scavenges, ~10% of server CPU on the ingest benchmark. Only the server: the agent
  // keeps a small heap on every node.
  v8.setFlagsFromString('--max-semi-space-size=32');
  // Query workers, whose isolates start later and read this when they do, keep a 64 MB old generation
  // before their first full collection: a query promotes a few MB per worker, and at V8's small starting
  // limit every query ended in a mark-compact whose parallel marking cost a fifth of the query's CPU.
  v8.setFlagsFromString('--initial-old-space-size=64');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  let cfg;
  const ignored: IgnoredSetting[] = [];
  try {
    cfg = loadConfig(args, process.env, ignored);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.message.split('\n')) process.stderr.write(`narvi server: ${line}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(cfg.server.logLevel as 'info', 'server');
  for (const { key, reason } of ignored) log.warn(`ignoring Loki setting ${key}: ${reason}`, { setting: key });
  let running;
  try {
    running = await startNarvi(cfg, log);
  } catch (err) {
    // One plain line an operator reads at a glance: which process holds which directory.
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`narvi server: ${err.message}\n`);
      process.exit(1);
    }
    log.error('failed to start', { err: (err as Error).message });
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting', { timeout_ms: cfg.server.gracefulShutdownTimeoutMs });
      process.exit(1);
    }, cfg.server.gracefulShutdownTimeoutMs);
    timer.unref();
    running.stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (err: Error) => {
        log.error('shutdown failed', { err: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
