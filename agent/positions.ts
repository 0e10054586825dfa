import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import YAML from 'yaml';
import type { Logger } from '../src/model/logger.js';
import { PlainClock } from './plain-clock.js';

/** How many leading bytes of a file identify it when its inode cannot (compressed or copied by rotation). */
export const HEAD_BYTES = 1024;

/**
 * The acknowledged read position of one file of a target path, identified by device and inode so that a file
 * renamed by rotation is still recognised after a restart, and by a hash of its first bytes (`head`) so that
 * a rotated file that was compressed or copied (new inode, same content) is recognised too, and a reused inode
 * holding other content is not. `acked` only ever moves to offsets the server confirmed. A finished file's
 * record stays (`done`) while the file exists, so a restart knows it was read and does not send it again.
 */
export class FilePosition {
  /** Bumped when the file is truncated, so acknowledgements of entries read before are ignored. */
  gen = 0;
  /** Set when the reader is done with the file (rotated away or deleted) at this offset. */
  finalOffset: number | undefined;
  clock: PlainClock | undefined;
  onDone: (() => void) | undefined;
  /** A reader has this file open; a second reader of the same inode would send its lines twice. */
  claimed = false;
  /** Read to its end and acknowledged; kept only to recognise the file. */
  done = false;
  /** Hash of the file's first `headLen` bytes (decompressed for `.gz`). */
  head = '';
  headLen = 0;
  /** Largest size seen, to say how much was lost if the file vanishes unread. */
  seen = 0;
  /** The file's name now (a rotated name, or the path itself). */
  file: string;
  /** Offsets count decompressed bytes. */
  gzip = false;

  constructor(
    public key: string,
    /** The target path this file was (or is) at. */
    public path: string,
    public dev: bigint,
    public ino: bigint,
    public acked: number,
  ) {
    this.file = path;
  }

  ack(gen: number, offset: number): void {
    if (gen !== this.gen) return;
    if (offset > this.acked) this.acked = offset;
    this.clock?.trim(this.acked);
    if (this.finalOffset !== undefined && this.acked >= this.finalOffset) this.onDone?.();
  }

  setHead(hash: string, len: number): void {
    this.head = hash;
    this.headLen = len;
  }

  /** The file shrank below what was read: start over at 0 and ignore acknowledgements still in flight. */
  truncated(): void {
    this.gen++;
    this.acked = 0;
    this.clock?.reset();
  }
}

export function fileKey(dev: bigint, ino: bigint): string {
  return `${dev}:${ino}`;
}

interface SavedRecord {
  path: string;
  file?: string;
  dev: string;
  ino: string;
  offset: number;
  done?: boolean;
  head?: string;
  head_len?: number;
  size?: number;
  gzip?: boolean;
  clock?: { covered_to: number; anchors: [number, string][] };
}

/**
 * All positions, saved atomically (temp file, fsync, rename, fsync of the directory) at an interval, at
 * shutdown, and before a newly found file is read (`saveSoon`), so a `kill -9` at any moment leaves either the
 * old or the new file, never a torn one, and every file the agent ever read from is in it.
 */
export class Positions {
  private byKey = new Map<string, FilePosition>();
  private saving: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  /** Target paths that have a record in the file on disk. */
  private durablePaths = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** A positions file was there at start: the agent ran before, so files it has no record of are new. */
  existed = false;

  private constructor(readonly path: string, private readonly log: Logger) {}

  static async load(path: string, log: Logger): Promise<Positions> {
    const p = new Positions(path, log);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
      p.existed = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read positions file ${path}: ${(err as Error).message}`);
    }
    if (text) {
      let doc: { positions?: SavedRecord[] } | null;
      try {
        doc = YAML.parse(text) as { positions?: SavedRecord[] } | null;
      } catch (err) {
        // Writes are atomic, so this is damage from outside; starting over re-reads files rather than losing them.
        log.warn('positions file is not valid YAML; starting without saved positions', { path, err: (err as Error).message });
        doc = null;
      }
      for (const r of doc?.positions ?? []) {
        try {
          const fp = new FilePosition(fileKey(BigInt(r.dev), BigInt(r.ino)), String(r.path), BigInt(r.dev), BigInt(r.ino), Number(r.offset) || 0);
          if (r.file) fp.file = String(r.file);
          fp.done = r.done === true;
          if (typeof r.head === 'string' && Number.isInteger(r.head_len)) fp.setHead(r.head, Number(r.head_len));
          fp.seen = Math.max(Number(r.size) || 0, fp.acked);
          fp.gzip = r.gzip === true;
          if (r.clock) {
            fp.clock = new PlainClock();
            fp.clock.coveredTo = Number(r.clock.covered_to) || 0;
            fp.clock.anchors = (r.clock.anchors ?? []).map(([o, t]) => [Number(o), BigInt(t)]);
          }
          p.byKey.set(fp.key, fp);
          p.durablePaths.add(fp.path);
        } catch {
          log.warn('skipping malformed positions record', { path, record: JSON.stringify(r) });
        }
      }
    }
    return p;
  }

  get(dev: bigint, ino: bigint): FilePosition | undefined {
    return this.byKey.get(fileKey(dev, ino));
  }

  /** The saved or new position of a file; a new one starts at `offset`. */
  track(path: string, dev: bigint, ino: bigint, offset = 0): FilePosition {
    const key = fileKey(dev, ino);
    let fp = this.byKey.get(key);
    if (!fp) {
      fp = new FilePosition(key, path, dev, ino, offset);
      this.byKey.set(key, fp);
    } else {
      fp.path = path;
    }
    return fp;
  }

  /** A new record at offset 0, replacing any stale one for the same inode (inodes are reused after deletion). */
  fresh(path: string, dev: bigint, ino: bigint): FilePosition {
    const key = fileKey(dev, ino);
    const fp = new FilePosition(key, path, dev, ino, 0);
    this.byKey.set(key, fp);
    return fp;
  }

  /** The file behind a record turned out to be another inode (compressed or copied by rotation). */
  rekey(fp: FilePosition, dev: bigint, ino: bigint): void {
    const key = fileKey(dev, ino);
    if (key === fp.key) return;
    this.remove(fp);
    const other = this.byKey.get(key);
    if (other) this.byKey.delete(key);
    fp.key = key;
    fp.dev = dev;
    fp.ino = ino;
    this.byKey.set(key, fp);
  }

  remove(fp: FilePosition): void {
    if (this.byKey.get(fp.key) === fp) this.byKey.delete(fp.key);
  }

  all(): FilePosition[] {
    return [...this.byKey.values()];
  }

  /** The records of the files at, or rotated away from, one target path. */
  forPath(path: string): FilePosition[] {
    const out: FilePosition[] = [];
    for (const fp of this.byKey.values()) if (fp.path === path) out.push(fp);
    return out;
  }

  startSync(periodMs: number): void {
    this.timer = setInterval(() => {
      this.save().catch((err: Error) => this.log.error('saving positions failed', { path: this.path, err: err.message }));
    }, periodMs);
    this.timer.unref();
  }

  stopSync(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Writes the current positions; calls are serialised so an older snapshot never lands after a newer one. */
  save(): Promise<void> {
    const next = this.saving.then(() => this.write());
    this.saving = next.catch(() => {});
    return next;
  }

  /**
   * A save that includes every change made before it resolves; callers arriving while one waits to start
   * share it, so many files found at once cost one write.
   */
  saveSoon(): Promise<void> {
    this.queued ??= this.saving.then(() => {
      this.queued = undefined;
      return this.write();
    });
    const next = this.queued;
    this.saving = next.catch(() => {});
    return next;
  }

  /** Whether a restart would find a record of this path (so it would read the path's newer files whole). */
  isDurable(path: string): boolean {
    return this.durablePaths.has(path);
  }

  private async write(): Promise<void> {
    const records: SavedRecord[] = [];
    const paths = new Set<string>();
    for (const fp of this.byKey.values()) {
      paths.add(fp.path);
      const r: SavedRecord = { path: fp.path, dev: fp.dev.toString(), ino: fp.ino.toString(), offset: fp.acked };
      if (fp.file !== fp.path) r.file = fp.file;
      if (fp.done) r.done = true;
      if (fp.headLen > 0) {
        r.head = fp.head;
        r.head_len = fp.headLen;
      }
      if (fp.seen > fp.acked) r.size = fp.seen;
      if (fp.gzip) r.gzip = true;
      if (fp.clock && fp.clock.anchors.length > 0) {
        r.clock = { covered_to: fp.clock.coveredTo, anchors: fp.clock.anchors.map(([o, t]) => [o, t.toString()]) };
      }
      records.push(r);
    }
    // JSON is YAML too (older files in block style still load), and an order of magnitude cheaper to write:
    // under rotation the file is written often.
    const text = '# narvi agent positions: byte offsets the server acknowledged, per file (dev+inode identify it)\n' + `{"positions":[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`;
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    // The rename is durable only once the directory entry is.
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.durablePaths = paths;
  }
}
