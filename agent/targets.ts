import { watch, type FSWatcher } from 'node:fs';
import { canonicalLabels } from '../src/model/labels.js';
import type { Logger } from '../src/model/logger.js';
import type { AgentMetrics } from './metrics.js';
import type { Positions } from './positions.js';
import { Tailer, type TailTarget, type TailerDeps } from './tailer.js';
import type { TargetSource } from './target-source.js';

/**
 * Keeps one tailer per wanted path: syncs the sources at an interval (and soon after their directories
 * change), starts tailers for new files, relabels when labels change, and retires tailers whose path went away
 * (they finish reading first). Drives all tailers from one poll tick.
 */
export class TargetManager {
  private tailers = new Map<string, Tailer>();
  private retiring = new Set<Tailer>();
  private syncTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private watchers: FSWatcher[] = [];
  private syncing: Promise<void> | undefined;
  private resyncSoon: NodeJS.Timeout | undefined;
  private stopped = false;
  private missing = new Map<string, number>();
  private firstSync = true;
  private roomWait: Promise<void> | undefined;

  constructor(
    private readonly sources: TargetSource[],
    private readonly deps: TailerDeps,
    private readonly positions: Positions,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: { syncPeriodMs: number; pollIntervalMs: number },
  ) {}

  /**
   * Starts following the targets; each tailer first finishes what its path's files hold since the saved
   * positions (rotated while the agent was down included). Paths with saved positions that are no longer
   * listed (the pod went away meanwhile) get a tailer that finishes what is left, or reports it lost.
   */
  async start(): Promise<void> {
    await this.sync();
    this.firstSync = false;
    for (const path of new Set(this.positions.all().map((fp) => fp.path))) {
      if (this.tailers.has(path)) continue;
      const target = this.targetFor(path);
      if (!target) {
        this.log.info('dropping saved positions of a path no target covers any more', { path });
        for (const fp of this.positions.forPath(path)) this.positions.remove(fp);
        continue;
      }
      const t = new Tailer(target, this.deps);
      t.retire();
      this.retiring.add(t);
      void t.poll();
    }
    this.syncTimer = setInterval(() => void this.sync(), this.opts.syncPeriodMs);
    this.pollTimer = setInterval(() => this.tick(), this.opts.pollIntervalMs);
    if (this.deps.watch) this.watchSourceDirs();
    this.tick();
  }

  get fileCount(): number {
    return this.tailers.size;
  }

  private tick(): void {
    if (this.stopped) return;
    // Readers stop when the batcher is full; read on as soon as it has room rather than at the next tick.
    if (!this.deps.sink.hasRoom() && !this.roomWait) {
      this.roomWait = this.deps.sink.waitForRoom().then(() => {
        this.roomWait = undefined;
        this.tick();
      });
    }
    for (const t of this.tailers.values()) void t.poll();
    for (const t of this.retiring) {
      if (t.finished) this.retiring.delete(t);
      else void t.poll();
    }
  }

  /** Re-reads the sources; concurrent calls share one run. */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.syncing ??= this.doSync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const wanted = new Map<string, TailTarget>();
    for (const s of this.sources) {
      try {
        for (const t of await s.list()) if (!wanted.has(t.path)) wanted.set(t.path, t);
      } catch (err) {
        this.log.error('target discovery failed', { source: s.name, err: (err as Error).message });
        return;
      }
    }
    if (this.stopped) return;
    for (const [path, target] of wanted) {
      this.missing.delete(path);
      const cur = this.tailers.get(path);
      if (!cur) {
        // On the agent's very first start only the current files are read; any later new path is read whole.
        const t = new Tailer(target, this.deps, !(this.firstSync && !this.positions.existed));
        this.tailers.set(path, t);
        this.log.debug('tailing new file', { path, labels: canonicalLabels(target.labels) });
        void t.poll();
      } else if (canonicalLabels(cur.target.labels) !== canonicalLabels(target.labels)) {
        cur.target.labels = target.labels;
        cur.setLabels(target.labels);
      }
    }
    for (const [path, t] of this.tailers) {
      if (wanted.has(path)) continue;
      // A path can be missing for a moment during rename-then-create rotation: only a second miss retires it.
      const n = (this.missing.get(path) ?? 0) + 1;
      this.missing.set(path, n);
      if (n < 2) continue;
      this.missing.delete(path);
      this.tailers.delete(path);
      t.retire();
      this.retiring.add(t);
      this.log.debug('file gone; finishing it', { path });
    }
  }

  private targetFor(path: string): TailTarget | undefined {
    for (const s of this.sources) {
      const t = s.targetFor(path);
      if (t) return t;
    }
    return undefined;
  }

  private watchSourceDirs(): void {
    const trigger = () => {
      if (this.resyncSoon || this.stopped) return;
      this.resyncSoon = setTimeout(() => {
        this.resyncSoon = undefined;
        void this.sync();
      }, 100);
    };
    for (const s of this.sources) {
      for (const dir of s.watchDirs()) {
        try {
          const w = watch(dir, { persistent: false }, trigger);
          w.on('error', () => w.close());
          this.watchers.push(w);
        } catch {
          // not there yet or inotify unavailable: the sync period covers it
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.syncTimer);
    clearInterval(this.pollTimer);
    clearTimeout(this.resyncSoon);
    for (const w of this.watchers) w.close();
    await this.syncing;
    await Promise.all([...this.tailers.values(), ...this.retiring].map((t) => t.stop()));
  }
}
