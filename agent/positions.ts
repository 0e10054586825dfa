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
 * The records of a positions file, whatever shape damage from outside left it in (writes are atomic, so a
 * torn or odd file was edited, copied half-way or restored from elsewhere). `positions` that is not a list
 * (`{}`, `5`, a string) holds no records. When the text is not YAML at all, the records this agent writes
 * one per line are salvaged line by line, so a file cut short keeps every record before the cut.
 */
function savedRecords(text: string, path: string, log: Logger): unknown[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    const salvaged: unknown[] = [];
    for (const line of text.split('\n')) {
      const t = line.trim().replace(/,$/, '');
      if (!t.startsWith('{"path"')) continue;
      try {
        salvaged.push(JSON.parse(t));
      } catch {
        // the cut line itself
      }
    }
    log.warn('positions file is not valid YAML; kept the records that could be read, files without one are read from their start', { path, err: (err as Error).message, salvaged: salvaged.length });
    return salvaged;
  }
  if (doc === null || doc === undefined) return [];
  const list = typeof doc === 'object' && !Array.isArray(doc) ? (doc as { positions?: unknown }).positions : undefined;
  if (Array.isArray(list)) return list;
  if (list !== undefined && list !== null) log.warn('positions file: "positions" is not a list; starting without saved positions, files are read from their start', { path, found: JSON.stringify(list).slice(0, 200) });
  else if (typeof doc !== 'object' || Array.isArray(doc)) log.warn('positions file does not hold a {positions: [...]} document; starting without saved positions, files are read from their start', { path });
  return [];
}

/** A non-negative whole number from a saved field, or null. */
function wholeNumber(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * One saved record as a position, or null (logged) when it cannot name a file. A record that names its file
 * (path, dev, ino) but whose offset cannot be trusted (negative, fractional, not a number) keeps the file's
 * identity and restarts it at offset 0: only a whole offset the agent wrote is known to be a line boundary the
 * server acknowledged, and reading from the start re-sends lines (the server drops exact duplicates, and
 * plain lines get their first timestamps back from the saved clock) where any other guess could skip some.
 */
function recordToPosition(raw: unknown, path: string, log: Logger): FilePosition | null {
  const r = raw as Partial<Record<keyof SavedRecord, unknown>> | null;
  const bad = (reason: string) => {
    log.warn('skipping malformed positions record; its file will be read from its start', { path, reason, record: JSON.stringify(raw)?.slice(0, 300) });
    return null;
  };
  if (!r || typeof r !== 'object' || Array.isArray(r)) return bad('not an object');
  if (typeof r.path !== 'string' || r.path === '') return bad('path is not a non-empty string');
  let dev: bigint;
  let ino: bigint;
  try {
    if ((typeof r.dev !== 'string' && typeof r.dev !== 'number') || (typeof r.ino !== 'string' && typeof r.ino !== 'number')) throw new Error();
    dev = BigInt(r.dev);
    ino = BigInt(r.ino);
    if (dev < 0n || ino < 0n) throw new Error();
  } catch {
    return bad('dev and ino are not whole numbers');
  }
  let offset = wholeNumber(r.offset);
  if (offset === null) {
    log.warn('positions record has an offset that is not a whole number of bytes; reading that file again from its start', { path, file: r.path, offset: JSON.stringify(r.offset) ?? 'missing' });
    offset = 0;
  }
  const fp = new FilePosition(fileKey(dev, ino), r.path, dev, ino, offset);
  if (typeof r.file === 'string' && r.file !== '') fp.file = r.file;
  // `done` only stands with an offset that does: an untrusted record is read again.
  fp.done = r.done === true && offset > 0;
  const headLen = wholeNumber(r.head_len);
  if (typeof r.head === 'string' && headLen !== null) fp.setHead(r.head, headLen);
  fp.seen = Math.max(wholeNumber(r.size) ?? 0, fp.acked);
  fp.gzip = r.gzip === true;
  const clock = r.clock as { covered_to?: unknown; anchors?: unknown } | undefined;
  if (clock && typeof clock === 'object') {
    // A clock that does not read back is dropped: re-read plain lines then get new timestamps (possible
    // duplicates), which beats failing the record.
    try {
      const anchors = (Array.isArray(clock.anchors) ? clock.anchors : []).map((a: unknown) => {
        const [o, t] = a as [unknown, unknown];
        const off = wholeNumber(o);
        if (off === null || (typeof t !== 'string' && typeof t !== 'number')) throw new Error('bad anchor');
        return [off, BigInt(t)] as [number, bigint];
      });
      const c = new PlainClock();
      c.coveredTo = wholeNumber(clock.covered_to) ?? 0;
      c.anchors = anchors.sort((a, b) => a[0] - b[0]);
      fp.clock = c;
    } catch {
      log.warn('positions record has an unreadable plain-line clock; dropping it', { path, file: r.path });
    }
  }
  return fp;
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
      for (const r of savedRecords(text, path, log)) {
        const fp = recordToPosition(r, path, log);
        if (!fp) continue;
        p.byKey.set(fp.key, fp);
        p.durablePaths.add(fp.path);
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
