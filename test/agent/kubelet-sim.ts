import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { formatRFC3339Nano } from '../../src/model/time.js';

interface PodFile {
  dir: string;
  container: string;
  restart: number;
  fd: number;
  size: number;
  lastTs: bigint;
  seq: number;
  rotations: number;
  key: string;
  /** The record of the file being written now. */
  file: SimFile;
}

/** What the sim knows about every file it ever wrote: which lines went into it and what became of it. */
export interface SimFile {
  key: string;
  /** Its name now (the rotated name once rotated, `.gz` once compressed). */
  path: string;
  /** Seqs [firstSeq, lastSeq] live in it; firstSeq > lastSeq means empty. */
  firstSeq: number;
  lastSeq: number;
  bytes: number;
  createdAt: number;
  rotatedAt?: number;
  compressedAt?: number;
  /** When it was deleted (keep count exceeded, or its pod directory removed). */
  deletedAt?: number;
  deletedBy?: 'keep' | 'pod-deleted';
}

export interface KubeletSimOptions {
  /** A file is rotated once it reaches this many bytes. */
  rotateBytes: number;
  /** Rotated files kept per container (kubelet's containerLogMaxFiles minus the live one). */
  keep: number;
  linesPerTick: number;
  tickMs: number;
  /** Filler characters appended to each line's content (default 0: the short lines e2e.test.ts expects). */
  padBytes?: number;
}

/**
 * A stand-in for kubelet + container runtime: writes CRI lines into `<root>/<ns>_<pod>_<uid>/<container>/<n>.log`
 * and rotates like kubelet does (rename to `<n>.log.<timestamp>`, create a new `<n>.log`, keep the newest few).
 * Every line carries `<key> seq=<n>` so the test can account for each one; `files` records which lines went
 * into which file and when each file was rotated, compressed or deleted, so a missing line can be traced.
 *
 * Lines are written by the timer (`start`) or on demand (`write`), rotations happen at `rotateBytes` or on
 * demand (`rotate`); `compressRotated` and `deletePod` do what kubelet does with old rotations and removed pods.
 */
export class KubeletSim {
  private pods: PodFile[] = [];
  /** The last seq written per pod key. */
  written = new Map<string, number>();
  totalLines = 0;
  /** Physical lines written (a runtime-split line is two: its `P` part and its `F` end). */
  rawLines = 0;
  /** Every file ever written, in creation order. */
  readonly files: SimFile[] = [];
  /** Pod keys whose directory was deleted (their unread lines are lost by design). */
  readonly deletedPods = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly pad: string;

  constructor(
    private readonly root: string,
    private readonly o: KubeletSimOptions,
  ) {
    this.pad = o.padBytes ? ' ' + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(o.padBytes / 36)).slice(0, o.padBytes - 1) : '';
  }

  /** The directory of pod `i`. */
  podDir(i: number): string {
    return join(this.root, `ns${i % 3}_pod-${i}_uid-${i}`);
  }

  addPod(i: number): void {
    const dir = join(this.podDir(i), 'app');
    mkdirSync(dir, { recursive: true });
    const key = `pod-${i}`;
    const f: PodFile = { dir, container: 'app', restart: 0, fd: -1, size: 0, lastTs: 0n, seq: 0, rotations: 0, key, file: undefined! };
    f.fd = openSync(join(dir, '0.log'), 'a');
    f.file = this.newFile(f, join(dir, '0.log'));
    this.pods.push(f);
    this.written.set(key, 0);
  }

  /** The path of pod `i`'s live log file. */
  currentPath(i: number): string {
    const f = this.pod(i);
    return join(f.dir, `${f.restart}.log`);
  }

  /** The container restarts: kubelet starts writing `<n+1>.log`. */
  restartContainer(i: number): void {
    const f = this.pod(i);
    closeSync(f.fd);
    f.restart++;
    f.fd = openSync(join(f.dir, `${f.restart}.log`), 'a');
    f.size = 0;
    f.file = this.newFile(f, join(f.dir, `${f.restart}.log`));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
  }

  /** Stops the timer and closes the files (idempotent). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const f of this.pods) if (f.fd >= 0) closeSync(f.fd);
    for (const f of this.pods) f.fd = -1;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  private tick(): void {
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const f of this.pods) this.writeTo(f, this.o.linesPerTick, now);
  }

  /** Writes `n` lines to pod `i` now (rotating at `rotateBytes` like the timer does). */
  write(i: number, n: number): void {
    this.writeTo(this.pod(i), n, BigInt(Date.now()) * 1_000_000n);
  }

  /** Writes `n` lines to every pod still there. */
  writeAll(n: number): void {
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const f of this.pods) this.writeTo(f, n, now);
  }

  private writeTo(f: PodFile, n: number, now: bigint): void {
    let buf = '';
    for (let k = 0; k < n; k++) {
      const ts = now > f.lastTs ? now : f.lastTs + 1n;
      f.lastTs = ts;
      f.seq++;
      const stream = f.seq % 7 === 0 ? 'stderr' : 'stdout';
      const content = `${f.key} seq=${f.seq} some payload to make the line look like a real log line${this.pad}`;
      if (f.seq % 11 === 0) {
        // A long line split by the runtime into partials.
        const half = Math.floor(content.length / 2);
        buf += `${formatRFC3339Nano(ts)} ${stream} P ${content.slice(0, half)}\n${formatRFC3339Nano(ts)} ${stream} F ${content.slice(half)}\n`;
        this.rawLines++;
      } else {
        buf += `${formatRFC3339Nano(ts)} ${stream} F ${content}\n`;
      }
    }
    const b = Buffer.from(buf);
    writeSync(f.fd, b);
    f.size += b.length;
    f.file.lastSeq = f.seq;
    f.file.bytes += b.length;
    this.totalLines += n;
    this.rawLines += n;
    this.written.set(f.key, f.seq);
    if (f.size >= this.o.rotateBytes) this.rotateFile(f);
  }

  /** Rotates pod `i`'s live file now, as kubelet does. Returns the rotated name. */
  rotate(i: number): string {
    return this.rotateFile(this.pod(i));
  }

  private rotateFile(f: PodFile): string {
    const name = `${f.restart}.log`;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    f.rotations++;
    // kubelet's names are `<n>.log.<YYYYMMDD-hhmmss>`; the counter keeps several rotations within a second apart.
    const rotated = join(f.dir, `${name}.${stamp}.${String(f.rotations).padStart(4, '0')}`);
    renameSync(join(f.dir, name), rotated);
    f.file.path = rotated;
    f.file.rotatedAt = Date.now();
    closeSync(f.fd);
    f.fd = openSync(join(f.dir, name), 'a');
    f.size = 0;
    f.file = this.newFile(f, join(f.dir, name));
    const all = readdirSync(f.dir).filter((n) => n.startsWith(name + '.')).sort();
    for (const old of all.slice(0, Math.max(0, all.length - this.o.keep))) {
      rmSync(join(f.dir, old));
      const rec = this.files.find((x) => x.path === join(f.dir, old));
      if (rec) {
        rec.deletedAt = Date.now();
        rec.deletedBy = 'keep';
      }
    }
    return rotated;
  }

  /**
   * What kubelet does to all rotated files but the newest: gzip each into `<name>.gz` (node:zlib), then delete
   * the uncompressed one. Returns the compressed names.
   */
  compressRotated(i: number): string[] {
    const f = this.pod(i);
    const name = `${f.restart}.log`;
    const plain = readdirSync(f.dir).filter((n) => n.startsWith(name + '.') && !n.endsWith('.gz')).sort();
    const out: string[] = [];
    for (const n of plain.slice(0, -1)) {
      const from = join(f.dir, n);
      const to = `${from}.gz`;
      writeFileSync(`${to}.tmp`, gzipSync(readFileSync(from)));
      renameSync(`${to}.tmp`, to);
      rmSync(from);
      const rec = this.files.find((x) => x.path === from);
      if (rec) {
        rec.path = to;
        rec.compressedAt = Date.now();
      }
      out.push(to);
    }
    return out;
  }

  /** The pod is deleted: kubelet removes its whole log directory. Nothing more is written for it. */
  deletePod(i: number): void {
    const f = this.pod(i);
    if (f.fd >= 0) closeSync(f.fd);
    rmSync(this.podDir(i), { recursive: true, force: true });
    this.pods.splice(this.pods.indexOf(f), 1);
    this.deletedPods.add(f.key);
    const now = Date.now();
    for (const rec of this.files) {
      if (rec.key === f.key && rec.deletedAt === undefined) {
        rec.deletedAt = now;
        rec.deletedBy = 'pod-deleted';
      }
    }
  }

  /** The file line `seq` of `key` was written to. */
  fileOf(key: string, seq: number): SimFile | undefined {
    return this.files.find((x) => x.key === key && x.firstSeq <= seq && seq <= x.lastSeq);
  }

  /**
   * The sim's own bookkeeping, checked: per pod, its files hold seqs 1..written without gaps or overlaps, and
   * the sum over pods is `totalLines`. Returns the problems found (none expected).
   */
  selfCheck(): string[] {
    const problems: string[] = [];
    let total = 0;
    for (const [key, last] of this.written) {
      total += last;
      let next = 1;
      for (const rec of this.files.filter((x) => x.key === key && x.firstSeq <= x.lastSeq)) {
        if (rec.firstSeq !== next) problems.push(`${key}: ${rec.path} starts at seq ${rec.firstSeq}, expected ${next}`);
        next = rec.lastSeq + 1;
      }
      if (next !== last + 1) problems.push(`${key}: files end at seq ${next - 1}, written ${last}`);
    }
    if (total !== this.totalLines) problems.push(`sum of written seqs ${total} != totalLines ${this.totalLines}`);
    return problems;
  }

  private pod(i: number): PodFile {
    const f = this.pods.find((x) => x.key === `pod-${i}`);
    if (!f) throw new Error(`pod-${i} is not there (never added, or deleted)`);
    return f;
  }

  private newFile(f: PodFile, path: string): SimFile {
    const rec: SimFile = { key: f.key, path, firstSeq: f.seq + 1, lastSeq: f.seq, bytes: 0, createdAt: Date.now() };
    this.files.push(rec);
    return rec;
  }
}
