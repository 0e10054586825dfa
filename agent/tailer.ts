import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import type { Labels } from '../src/model/labels.js';
import type { Sink } from './batcher.js';
import { FileReader } from './file-reader.js';
import type { Logger } from '../src/model/logger.js';
import type { AgentMetrics } from './metrics.js';
import type { MultilineConfig } from './multiline.js';
import type { Format } from './parsed-line.js';
import type { Pipeline } from './pipeline.js';
import type { FilePosition, Positions } from './positions.js';
import { RecordChain } from './record-chain.js';

const WATCH_DELAY_MS = 100;

export interface TailTarget {
  path: string;
  labels: Labels;
  format: Format;
  multiline?: MultilineConfig;
}

export interface TailerDeps {
  sink: Sink;
  positions: Positions;
  pipeline: Pipeline;
  metrics: AgentMetrics;
  log: Logger;
  maxLineSize: number;
  chunkSize: number;
  watch: boolean;
  /** How long a rotated-away file is kept open after it stopped growing (writers may still flush into it). */
  rotatedGraceMs: number;
}

/**
 * Follows one path. The file currently at the path is read as it grows; when the path starts naming another
 * file (rename-then-create rotation) or disappears, the old file is read to its end through the descriptor
 * still open, kept a little while for late writes, and then let go, while the new file is read from its start.
 */
export class Tailer {
  private current: FileReader | undefined;
  private finishing: FileReader[] = [];
  private busy = false;
  private again = false;
  private pathDue = true;
  private stopped = false;
  private watcher: FSWatcher | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private lastError = '';
  private labels: Labels;
  private chains = new Set<RecordChain>();
  private draining = false;

  constructor(readonly target: TailTarget, private readonly d: TailerDeps) {
    this.labels = target.labels;
  }

  /** Files found at startup under a rotated name, to be finished from their saved position. */
  adoptRotated(fh: FileHandle, fp: FilePosition): void {
    const r = this.makeReader(fh, fp);
    r.detachedAt = Date.now();
    this.finishing.push(r);
  }

  setLabels(labels: Labels): void {
    this.labels = labels;
    for (const c of this.chains) c.setLabels(labels);
  }

  /**
   * Reads what is new; with `checkPath` (timer polls, rename events) also looks whether the path now names
   * another file. Safe to call often: concurrent calls coalesce.
   */
  async poll(checkPath = true): Promise<void> {
    if (this.stopped) return;
    this.pathDue ||= checkPath;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        const check = this.pathDue || !this.current;
        this.pathDue = false;
        await this.pollOnce(check);
      } while (this.again && !this.stopped);
    } catch (err) {
      this.d.log.error('tailing failed', { path: this.target.path, err: (err as Error).message });
    } finally {
      this.busy = false;
    }
  }

  private async pollOnce(checkPath: boolean): Promise<void> {
    if (!this.draining && checkPath) await this.checkPath();
    // The old file first: its lines precede the new file's.
    for (const r of [...this.finishing]) {
      const atEnd = await r.readAvailable(() => this.stopped);
      if (this.stopped) return;
      const quiet = Date.now() - Math.max(r.lastGrowthAt, r.detachedAt ?? 0) >= this.d.rotatedGraceMs;
      if (atEnd && (quiet || this.draining)) {
        this.finishing.splice(this.finishing.indexOf(r), 1);
        this.release(r);
      }
    }
    if (this.current) await this.current.readAvailable(() => this.stopped);
    if (this.draining && this.finishing.length === 0 && !this.current) this.stopped = true;
  }

  private async checkPath(): Promise<void> {
    let st: BigIntStats | undefined;
    try {
      st = await stat(this.target.path, { bigint: true });
      if (!st.isFile()) st = undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.warnOnce(`stat: ${code}`, err as Error);
    }
    const cur = this.current;
    if (cur && (!st || st.ino !== cur.fp.ino || st.dev !== cur.fp.dev)) {
      // Renamed away (rotation) or deleted: keep reading the open descriptor to its end.
      this.d.metrics.rotations.inc({ kind: st ? 'rename' : 'delete' });
      this.d.log.debug('file replaced at path; finishing the old one', { path: this.target.path, reason: st ? 'rotated' : 'deleted' });
      cur.detachedAt = Date.now();
      this.finishing.push(cur);
      this.current = undefined;
      this.unwatch();
    }
    if (!this.current && st) await this.openCurrent();
  }

  private async openCurrent(): Promise<void> {
    let fh;
    try {
      fh = await open(this.target.path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.warnOnce(`open: ${code}`, err as Error);
      return;
    }
    // Identity comes from the descriptor, not the path: the path may have been replaced in between.
    const st = await fh.stat({ bigint: true });
    const fp = this.d.positions.track(this.target.path, st.dev, st.ino, 0);
    if (fp.claimed) {
      // Still being finished by another reader (it was rotated away and came back, or a retiring tailer has it).
      await fh.close();
      return;
    }
    if (fp.finalOffset !== undefined) {
      // The same inode came back at the path (renamed back): it is live again.
      fp.finalOffset = undefined;
      fp.onDone = undefined;
    }
    if (BigInt(fp.acked) > st.size) {
      this.d.log.info('file is shorter than its saved position; reading it from the start', { path: this.target.path, saved: fp.acked, size: st.size });
      fp.truncated();
    }
    this.current = this.makeReader(fh, fp);
    this.lastError = '';
    this.watchFile();
  }

  private makeReader(fh: FileHandle, fp: FilePosition): FileReader {
    const chain = new RecordChain({
      format: this.target.format,
      labels: this.labels,
      multiline: this.target.multiline,
      maxLineSize: this.d.maxLineSize,
      pipeline: this.d.pipeline,
      sink: this.d.sink,
      metrics: this.d.metrics,
    });
    this.chains.add(chain);
    // CRI/docker records carry a prefix beside the content; leave room for it before cutting the raw line.
    const rawMax = this.target.format === 'plain' ? this.d.maxLineSize : this.d.maxLineSize + 64 * 1024;
    const reader = new FileReader(fh, fp, chain, this.target.format, this.d.sink, this.d.metrics, this.d.chunkSize, rawMax, (from, to) => {
      this.d.metrics.rotations.inc({ kind: 'truncate' });
      this.d.log.info('file truncated; reading it from the start', { path: this.target.path, offset: from, size: to });
    });
    this.d.metrics.filesActive.inc();
    return reader;
  }

  private release(r: FileReader): void {
    this.chains.delete(r.chain);
    r.finish(() => this.d.positions.remove(r.fp));
    this.d.metrics.filesActive.dec();
    void r.close();
  }

  private watchFile(): void {
    if (!this.d.watch) return;
    try {
      this.watcher = watch(this.target.path, { persistent: false }, (event) => this.onWatchEvent(event));
      this.watcher.on('error', () => this.unwatch());
    } catch {
      // inotify unavailable or out of watches: polling covers it
    }
  }

  private onWatchEvent(event: string): void {
    if (event === 'rename') this.pathDue = true;
    // Coalesce bursts of write events into one read a little later: a busy file is read in larger chunks
    // with fewer system calls, a quiet one still within ~WATCH_DELAY_MS of the write.
    if (this.watchTimer || this.stopped) return;
    this.watchTimer = setTimeout(() => {
      this.watchTimer = undefined;
      void this.poll(false);
    }, WATCH_DELAY_MS);
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private warnOnce(kind: string, err: Error): void {
    if (this.lastError === kind) return;
    this.lastError = kind;
    this.d.log.warn('cannot read file', { path: this.target.path, err: err.message });
  }

  /**
   * The path is gone for good (pod deleted, glob no longer matches): read the open files to their end, emit
   * what they hold, and let them go. The owner keeps polling until `finished`.
   */
  retire(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    this.unwatch();
    if (this.current) {
      this.current.detachedAt = Date.now();
      this.finishing.push(this.current);
      this.current = undefined;
    }
  }

  get retiring(): boolean {
    return this.draining;
  }

  get finished(): boolean {
    return this.stopped;
  }

  /** Agent shutdown: stop reading; positions stay at what was acknowledged. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch();
    if (this.watchTimer) clearTimeout(this.watchTimer);
    for (const r of [...this.finishing, ...(this.current ? [this.current] : [])]) {
      this.d.metrics.filesActive.dec();
      await r.close();
    }
    this.finishing = [];
    this.current = undefined;
  }
}
