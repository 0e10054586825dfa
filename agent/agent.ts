import type { Readable } from 'node:stream';
import type { Labels } from '../src/model/labels.js';
import { Batcher } from './batcher.js';
import { PushClient } from './client.js';
import type { AgentConfig } from './config.js';
import { PodsDiscovery } from './discovery.js';
import { AgentHttp } from './http.js';
import { KubeMetadata } from './kube-api.js';
import { createLogger, type Logger } from '../src/model/logger.js';
import { AgentMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { Positions } from './positions.js';
import { StaticTargets } from './static-targets.js';
import { shipStdin } from './stdin.js';
import type { TailTarget } from './tailer.js';
import type { TargetSource } from './target-source.js';
import { TargetManager } from './targets.js';

export interface RunningAgent {
  /** `http://host:port` of /metrics and /ready; empty when there is no listener (server.disable, --stdin). */
  address: string;
  metrics: AgentMetrics;
  /** Graceful stop: stop reading, send what is buffered (bounded by shutdown_timeout), save positions. */
  stop(): Promise<void>;
  /** Resolves when a --stdin run has shipped all of its input. */
  finished: Promise<void>;
}

/** Adds client.external_labels to every target (the target's own labels win). */
function withExternalLabels(src: TargetSource, ext: Labels): TargetSource {
  if (Object.keys(ext).length === 0) return src;
  const add = (t: TailTarget | undefined) => (t ? { ...t, labels: { ...ext, ...t.labels } } : t);
  return {
    name: src.name,
    list: async () => (await src.list()).map((t) => add(t)!),
    targetFor: (p) => add(src.targetFor(p)),
    watchDirs: () => src.watchDirs(),
  };
}

export async function startAgent(cfg: AgentConfig, opts: { log?: Logger; stdin?: Readable } = {}): Promise<RunningAgent> {
  const log = opts.log ?? createLogger(cfg.server.logLevel, 'agent');
  const metrics = new AgentMetrics();
  const http = new AgentHttp(metrics);
  const address = await http.open(cfg.server, { optional: cfg.stdin.enabled }, log);

  const client = new PushClient(cfg.client);
  const batcher = new Batcher(cfg.client, client, metrics, log);
  const pipeline = new Pipeline(cfg.pipeline);

  if (cfg.stdin.enabled) {
    http.ready = true;
    log.info('shipping standard input', { url: cfg.client.url });
    const finished = (async () => {
      await shipStdin(opts.stdin ?? process.stdin, { labels: { ...cfg.client.externalLabels, ...cfg.stdin.labels }, format: cfg.stdin.format, maxLineSize: cfg.limits.maxLineSize, pipeline, sink: batcher, metrics });
      await batcher.flushAll();
    })();
    return {
      address,
      metrics,
      finished,
      async stop() {
        http.ready = false;
        await batcher.drain(cfg.shutdownTimeoutMs);
        client.close();
        await http.close();
      },
    };
  }

  const positions = await Positions.load(cfg.positions.path, log);
  // Plain lines' timestamps derive from anchors saved with the positions; save them before they are used.
  batcher.beforeSend = async (covers) => {
    let changed = false;
    for (const [fp, end] of covers) {
      if (fp.clock && end > fp.clock.coveredTo) {
        fp.clock.coveredTo = end;
        changed = true;
      }
    }
    if (changed) await positions.save();
  };

  let kube: KubeMetadata | undefined;
  const sources: TargetSource[] = [];
  let manager: TargetManager | undefined;
  if (cfg.kubernetes.enabled) {
    if (cfg.kubernetes.apiServer) {
      kube = new KubeMetadata(
        { apiServer: cfg.kubernetes.apiServer, tokenFile: cfg.kubernetes.tokenFile, caFile: cfg.kubernetes.caFile, nodeName: cfg.kubernetes.nodeName, resyncPeriodMs: cfg.kubernetes.resyncPeriodMs },
        log,
      );
      kube.onChange = () => void manager?.sync();
      kube.start();
    } else {
      log.info('no Kubernetes API configured (not in a cluster): pod files get namespace/pod/container labels only');
    }
    sources.push(withExternalLabels(new PodsDiscovery(cfg.kubernetes, kube), cfg.client.externalLabels));
  }
  if (cfg.staticTargets.length > 0) sources.push(withExternalLabels(new StaticTargets(cfg.staticTargets), cfg.client.externalLabels));

  manager = new TargetManager(
    sources,
    {
      sink: batcher,
      positions,
      pipeline,
      metrics,
      log,
      maxLineSize: cfg.limits.maxLineSize,
      chunkSize: cfg.tail.readChunkSize,
      watch: cfg.tail.watch,
      rotatedGraceMs: Math.max(1000, 4 * cfg.tail.pollIntervalMs),
    },
    positions,
    metrics,
    log,
    { syncPeriodMs: cfg.targetSyncPeriodMs, pollIntervalMs: cfg.tail.pollIntervalMs },
  );
  await manager.start();
  positions.startSync(cfg.positions.syncPeriodMs);
  http.ready = true;
  log.info('agent started', {
    url: cfg.client.url,
    files: manager.fileCount,
    kubernetes: cfg.kubernetes.enabled ? cfg.kubernetes.podsRoot : 'off',
    static_targets: cfg.staticTargets.length,
    positions: cfg.positions.path,
  });

  let stopping: Promise<void> | undefined;
  return {
    address,
    metrics,
    finished: new Promise(() => {}),
    stop() {
      stopping ??= (async () => {
        http.ready = false;
        kube?.stop();
        await manager!.stop();
        const allSent = await batcher.drain(cfg.shutdownTimeoutMs);
        positions.stopSync();
        await positions.save().catch((err: Error) => log.error('saving positions failed', { err: err.message }));
        log.info('agent stopped', { all_sent: allSent, unsent_bytes: batcher.pendingBytes });
        client.close();
        await http.close();
      })();
      return stopping;
    },
  };
}
