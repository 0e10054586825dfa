import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { canonicalLabels } from '../src/model/labels.js';
import type { Logger } from '../src/model/logger.js';
import type { AgentMetrics } from './metrics.js';
import type { Positions } from './positions.js';
import { findRotated } from './rotated.js';
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

  constructor(
    private readonly sources: TargetSource[],
    private readonly deps: TailerDeps,
    private readonly positions: Positions,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    private readonly opts: { syncPeriodMs: number; pollIntervalMs: number },
  ) {}

  /** Finishes files rotated while the agent was down, then starts following the targets. */
  async start(): Promise<void> {
    await this.recoverRotated();
    await this.sync();
    this.syncTimer = setInterval(() => void this.sync(), this.opts.syncPeriodMs);
    this.pollTimer = setInterval(() => this.tick(), this.opts.pollIntervalMs);
    if (this.deps.watch) this.watchSourceDirs();
    this.tick();
  }

  get fileCount(): number {
    return this.tailers.size;
  }

  private tick(): void {
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
        const t = new Tailer(target, this.deps);
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

  private async recoverRotated(): Promise<void> {
    const saved = this.positions.all();
    const savedKeys = new Set(saved.map((fp) => fp.key));
    for (const fp of saved) {
      let here = false;
      try {
        const st = await stat(fp.path, { bigint: true });
        here = st.ino === fp.ino && st.dev === fp.dev;
      } catch {
        // not at its path
      }
      if (here) continue;
      const target = this.targetFor(fp.path);
      const found = target ? await findRotated(fp, savedKeys) : undefined;
      if (!target || !found) {
        if (!target) this.log.info('dropping saved position of a file no target covers any more', { path: fp.path });
        else {
          this.metrics.lostFiles.inc();
          this.log.warn('file with unread data vanished while the agent was down; its remaining lines are lost', { path: fp.path, offset: fp.acked });
        }
        this.positions.remove(fp);
        continue;
      }
      let tailer = this.tailers.get(fp.path);
      if (!tailer) {
        tailer = new Tailer(target, this.deps);
        this.tailers.set(fp.path, tailer);
      }
      this.log.info('finishing file rotated while the agent was down', { path: found.file.path, offset: fp.acked, newer_unread: found.newer.length });
      if (BigInt(fp.acked) > found.file.stat.size) fp.truncated();
      tailer.adoptRotated(await open(found.file.path, 'r'), fp);
      for (const n of found.newer) {
        const nfp = this.positions.track(n.path, n.stat.dev, n.stat.ino, 0);
        savedKeys.add(nfp.key);
        tailer.adoptRotated(await open(n.path, 'r'), nfp);
      }
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
