import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import YAML from 'yaml';
import type { Logger } from '../src/model/logger.js';
import { PlainClock } from './plain-clock.js';

/**
 * The acknowledged read position of one file, identified by device and inode so that a file renamed by
 * rotation is still recognised after a restart. `acked` only ever moves to offsets the server confirmed.
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

  constructor(
    readonly key: string,
    public path: string,
    readonly dev: bigint,
    readonly ino: bigint,
    public acked: number,
  ) {}

  ack(gen: number, offset: number): void {
    if (gen !== this.gen) return;
    if (offset > this.acked) this.acked = offset;
    this.clock?.trim(this.acked);
    if (this.finalOffset !== undefined && this.acked >= this.finalOffset) this.onDone?.();
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
  dev: string;
  ino: string;
  offset: number;
  clock?: { covered_to: number; anchors: [number, string][] };
}

/**
 * All positions, saved atomically (temp file, fsync, rename, fsync of the directory) at an interval and at
 * shutdown, so a `kill -9` at any moment leaves either the old or the new file, never a torn one.
 */
export class Positions {
  private byKey = new Map<string, FilePosition>();
  private saving: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  private constructor(readonly path: string, private readonly log: Logger) {}

  static async load(path: string, log: Logger): Promise<Positions> {
    const p = new Positions(path, log);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
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
          if (r.clock) {
            fp.clock = new PlainClock();
            fp.clock.coveredTo = Number(r.clock.covered_to) || 0;
            fp.clock.anchors = (r.clock.anchors ?? []).map(([o, t]) => [Number(o), BigInt(t)]);
          }
          p.byKey.set(fp.key, fp);
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

  remove(fp: FilePosition): void {
    if (this.byKey.get(fp.key) === fp) this.byKey.delete(fp.key);
  }

  all(): FilePosition[] {
    return [...this.byKey.values()];
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

  private async write(): Promise<void> {
    const records: SavedRecord[] = [];
    for (const fp of this.byKey.values()) {
      const r: SavedRecord = { path: fp.path, dev: fp.dev.toString(), ino: fp.ino.toString(), offset: fp.acked };
      if (fp.clock && fp.clock.anchors.length > 0) {
        r.clock = { covered_to: fp.clock.coveredTo, anchors: fp.clock.anchors.map(([o, t]) => [o, t.toString()]) };
      }
      records.push(r);
    }
    const text = '# narvi agent positions: byte offsets the server acknowledged, per file (dev+inode identify it)\n' + YAML.stringify({ positions: records });
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
  }
}
