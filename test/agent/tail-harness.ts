import type { Sink } from '../../agent/batcher.js';
import { silentLogger } from '../../src/model/logger.js';
import { AgentMetrics } from '../../agent/metrics.js';
import { Pipeline, type Stage } from '../../agent/pipeline.js';
import type { FilePosition } from '../../agent/positions.js';
import { Positions } from '../../agent/positions.js';
import type { TargetSource } from '../../agent/target-source.js';
import { TargetManager } from '../../agent/targets.js';
import { parseLabels } from '../../src/model/labels.js';

export interface Got {
  labels: Record<string, string>;
  ts: bigint;
  line: string;
}

/**
 * Stands in for batcher + server in tailing tests: records every entry and acknowledges it at once, as a
 * server answering 204 would. The tailer, the files and the positions are all real.
 */
export class RecordingSink implements Sink {
  got: Got[] = [];
  add(stream: string, ts: bigint, line: string, fp?: FilePosition, gen = 0, ack = 0): void {
    this.got.push({ labels: parseLabels(stream), ts, line });
    if (fp) fp.ack(gen, ack);
  }
  mark(fp: FilePosition, gen: number, offset: number): void {
    fp.ack(gen, offset);
  }
  hasRoom(): boolean {
    return true;
  }
  waitForRoom(): Promise<void> {
    return Promise.resolve();
  }
  lines(): string[] {
    return this.got.map((g) => g.line);
  }
}

export async function startTailing(sources: TargetSource[], positionsPath: string, opts: { maxLineSize?: number; pipeline?: Stage[]; watch?: boolean } = {}) {
  const sink = new RecordingSink();
  const metrics = new AgentMetrics(false);
  const positions = await Positions.load(positionsPath, silentLogger);
  const manager = new TargetManager(
    sources,
    {
      sink,
      positions,
      pipeline: new Pipeline(opts.pipeline ?? []),
      metrics,
      log: silentLogger,
      maxLineSize: opts.maxLineSize ?? 1000,
      chunkSize: 4096,
      watch: opts.watch ?? true,
      rotatedGraceMs: 300,
    },
    positions,
    metrics,
    silentLogger,
    { syncPeriodMs: 100, pollIntervalMs: 50 },
  );
  await manager.start();
  return {
    sink,
    metrics,
    positions,
    manager,
    async stop() {
      await manager.stop();
      await positions.save();
    },
  };
}
