import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { FileSource, GzipSource, type ByteSource } from './byte-source.js';
import { planChain } from './chain-plan.js';
import { listChain, type ChainFile } from './rotated.js';
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
 * Rotated files held open at once per path. Holding a rotated file keeps it readable after the kubelet
 * deletes it, but also keeps its disk space: while the server is away for long, later rotations wait (with a
 * record, so their loss is counted if they are deleted before their turn) instead of pinning the node's disk.
 */
const MAX_HELD = 16;

/**
 * Follows one path and its rotations. The file at the path is read as it grows. When the path starts naming
 * another file or disappears, the old file is read to its end through the descriptor still open, kept a
 * little while for late writes, and then let go; the files rotated in between (several rotations between two
 * looks, or while the agent was down) are found beside the path and read in order, oldest first, before the
 * new file (see planChain). Every file gets a durable record before its first byte is read, so a restart at
 * any instant knows every file it read from.
 */
export class Tailer {
  private current: FileReader | undefined;
  private finishing: FileReader[] = [];
  private busy = false;
  private again = false;
  private pathDue = true;
  private stopped = false;
  private swept = false;
  /** Records wait for a place among the held files. */
  private waiting = false;
  private watcher: FSWatcher | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private lastError = '';
  private labels: Labels;
  private chains = new Set<RecordChain>();
  private draining = false;
  private warnedUnreadable = new Set<string>();

  /** `history`: read the rotated copies of a path without records (it appeared while the agent was down). */
  constructor(readonly target: TailTarget, private readonly d: TailerDeps, private readonly history = true) {
    this.labels = target.labels;
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
    if (!this.swept || (!this.draining && checkPath)) await this.checkPath();
    // Older files first: their lines precede the newer ones'. One that stops short (no room) holds the rest.
    for (const r of [...this.finishing]) {
      const atEnd = await r.readAvailable(() => this.stopped);
      if (this.stopped || !atEnd) return;
      const quiet = Date.now() - Math.max(r.lastGrowthAt, r.detachedAt ?? 0) >= this.d.rotatedGraceMs;
      if (quiet || this.draining) {
        this.finishing.splice(this.finishing.indexOf(r), 1);
        this.release(r);
      }
    }
    if (this.waiting && this.finishing.length < MAX_HELD) await this.sweep();
    if (this.current) await this.current.readAvailable(() => this.stopped);
    if (this.draining && this.finishing.length === 0 && !this.current && !this.waiting) this.stopped = true;
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
    let changed = !this.swept;
    const cur = this.current;
    if (cur && (!st || st.ino !== cur.fp.ino || st.dev !== cur.fp.dev)) {
      // Renamed away (rotation) or deleted: keep reading the open descriptor to its end.
      this.d.metrics.rotations.inc({ kind: st ? 'rename' : 'delete' });
      this.d.log.debug('file replaced at path; finishing the old one', { path: this.target.path, reason: st ? 'rotated' : 'deleted' });
      cur.detachedAt = Date.now();
      this.finishing.push(cur);
      this.current = undefined;
      this.unwatch();
      changed = true;
    }
    if (!this.current && st && !this.draining) changed = true;
    if (changed) await this.sweep();
  }

  /** Matches the path's files to their records and opens every file still to read, in order. */
  private async sweep(): Promise<void> {
    const path = this.target.path;
    const { files, unreadable } = await listChain(path);
    for (const u of unreadable) {
      if (this.warnedUnreadable.has(u)) continue;
      this.warnedUnreadable.add(u);
      this.d.log.warn('rotated file is compressed in a format the agent cannot read; it is skipped', { path, file: u });
    }
    const initial = !this.swept;
    const plan = await planChain(path, files, this.d.positions.forPath(path), this.d.positions, this.history);
    this.swept = true;
    for (const fp of plan.lost) {
      const unread = Math.max(0, fp.seen - fp.acked);
      this.d.metrics.lostFiles.inc();
      this.d.metrics.lostBytes.inc(unread);
      this.d.log.warn('file with unread data was deleted before the agent could read it; its remaining lines are lost', {
        path,
        file: fp.file,
        from_offset: fp.acked,
        to_offset: fp.seen > fp.acked ? fp.seen : 'unknown',
        lost_bytes_at_least: unread,
      });
      this.d.positions.remove(fp);
    }
    for (const fp of plan.gone) this.d.positions.remove(fp);
    this.waiting = false;
    let added = false;
    for (const { file, fp, fresh } of plan.read) {
      added ||= fresh;
      if (fp.claimed) continue;
      if (!file.current && this.finishing.length >= MAX_HELD) {
        this.waiting = true;
        continue;
      }
      const source = await this.openSource(file, fp);
      if (!source) continue;
      if (fp.finalOffset !== undefined) {
        // The same file came back to the path (renamed back): it is live again.
        fp.finalOffset = undefined;
        fp.onDone = undefined;
      }
      const reader = this.makeReader(source, fp);
      if (file.current && !this.draining) {
        this.current = reader;
        this.lastError = '';
        this.watchFile();
      } else {
        reader.detachedAt = Date.now();
        this.finishing.push(reader);
        const msg = fp.acked > 0 ? 'finishing rotated file from its saved offset' : 'reading rotated file not read before';
        if (initial) this.d.log.info(msg, { path, file: file.name, offset: fp.acked });
        else this.d.log.debug(msg, { path, file: file.name, offset: fp.acked });
      }
    }
    // A restart must know every path the agent read from: with any record of the path on disk, files it has
    // no record of are read whole after a restart (the rotations since), so only a path's first record has to
    // be durable before its first byte is read. Later ones ride the periodic save.
    if (added && !this.d.positions.isDurable(path)) await this.d.positions.saveSoon();
  }

  private async openSource(file: ChainFile, fp: FilePosition): Promise<ByteSource | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(file.name, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.warnOnce(`open: ${code}`, err as Error);
      return undefined;
    }
    // Identity comes from the descriptor, not the name: the name may have been replaced in between.
    const st = await fh.stat({ bigint: true });
    if (st.ino !== fp.ino || st.dev !== fp.dev) {
      await fh.close();
      if (file.current) this.pathDue = true;
      return undefined;
    }
    if (!file.gzip) return new FileSource(fh);
    return new GzipSource(fh, (err) => {
      this.d.metrics.lostFiles.inc();
      this.d.log.warn('compressed rotated file is damaged; the lines after the damage are lost', { path: this.target.path, file: file.name, err: err.message });
    });
  }

  private makeReader(source: ByteSource, fp: FilePosition): FileReader {
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
    const reader = new FileReader(source, fp, chain, this.target.format, this.d.sink, this.d.metrics, this.d.chunkSize, rawMax, (from, to) => {
      this.d.metrics.rotations.inc({ kind: 'truncate' });
      this.d.log.info('file truncated; reading it from the start', { path: this.target.path, offset: from, size: to });
    });
    this.d.metrics.filesActive.inc();
    return reader;
  }

  private release(r: FileReader): void {
    this.chains.delete(r.chain);
    const fp = r.fp;
    // A finished file is remembered while it exists so that no restart reads it again; a retired path's files are gone.
    r.finish(() => {
      if (this.draining) this.d.positions.remove(fp);
      else fp.done = true;
    });
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
