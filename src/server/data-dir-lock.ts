import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../model/logger.js';

export const LOCK_FILE = 'narvi.lock';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the holder started (ISO time), for the operator. */
  started: string;
  /** The kernel's start time of the process (/proc/<pid>/stat field 22): tells a reused PID apart. */
  procStart?: string;
  /** The machine's boot id: a lock from before a reboot is stale whatever its PID. */
  bootId?: string;
}

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {
    super(
      `data directory ${path} is in use by another narvi process: pid ${holder.pid} on host ${holder.host} (started ${holder.started}) holds ${join(path, LOCK_FILE)}; ` +
        `stop that process or give this one another storage.path`,
    );
  }
}

// A holder on another machine (a shared volume) cannot be asked whether it lives: it touches its lock
// this often, and a lock left untouched for STALE_AFTER_MS is taken over.
const HEARTBEAT_MS = 10_000;
const STALE_AFTER_MS = 60_000;

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
function procStartOf(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

const bootId = () => readProc('/proc/sys/kernel/random/boot_id')?.trim();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || !Number.isInteger(h.pid) || h.pid <= 0 || typeof h.host !== 'string') return null;
    return { pid: h.pid, host: h.host, started: typeof h.started === 'string' ? h.started : 'unknown', procStart: h.procStart, bootId: h.bootId };
  } catch {
    return null;
  }
}

/** Why a lock file's holder is gone, or null while it may still be running. */
function staleReason(h: LockHolder | null, mtimeMs: number): string | null {
  if (!h) return 'the lock file is unreadable (a crash while it was being written)';
  if (h.host !== hostname()) {
    const age = Date.now() - mtimeMs;
    return age > STALE_AFTER_MS ? `its holder on host ${h.host} has not refreshed it for ${Math.round(age / 1000)} s` : null;
  }
  const boot = bootId();
  if (h.bootId && boot && h.bootId !== boot) return 'it dates from before this machine rebooted';
  // In a container the restarted server often gets the same PID as the one that died.
  if (h.pid === process.pid) return `its pid ${h.pid} is this process`;
  if (!alive(h.pid)) return `process ${h.pid} is not running`;
  const start = procStartOf(h.pid);
  if (h.procStart && start && start !== h.procStart) return `pid ${h.pid} now belongs to another process`;
  return null;
}

/**
 * The exclusive claim of one server on its data directory (WAL and index): a lock file created with
 * O_EXCL that names the holder. A lock whose holder is gone is taken over; a live holder makes start fail.
 */
export class DataDirLock {
  private timer: NodeJS.Timeout | null = null;
  private released = false;

  private constructor(
    readonly path: string,
    private file: string,
    private log: Logger,
  ) {}

  static acquire(path: string, log: Logger): DataDirLock {
    mkdirSync(path, { recursive: true });
    const file = join(path, LOCK_FILE);
    const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), procStart: procStartOf(process.pid), bootId: bootId() };
    const body = JSON.stringify(me) + '\n';
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createExclusive(file, body)) {
        const lock = new DataDirLock(path, file, log);
        lock.heartbeat();
        return lock;
      }
      let text: string;
      let ino: number;
      let mtimeMs: number;
      try {
        const fd = openSync(file, 'r');
        try {
          const st = fstatSync(fd);
          ino = st.ino;
          mtimeMs = st.mtimeMs;
          text = readFileSync(fd, 'utf8');
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw err;
      }
      const holder = parseHolder(text);
      if (!holder && Date.now() - mtimeMs < 10_000) {
        throw new Error(`data directory ${path} is being locked by another process right now (${file} is not written yet); try again`);
      }
      const why = staleReason(holder, mtimeMs);
      if (why === null) throw new DataDirLockedError(path, holder!);
      // Set the stale file aside under a name of our own, then check it is the very file judged stale: a
      // server that took it over meanwhile must keep its lock, so a fresh one goes back where it was.
      const aside = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (statSync(aside).ino !== ino) {
        try {
          linkSync(aside, file);
        } catch {
          // a third server created one meanwhile: it holds the directory
        }
        unlinkSync(aside);
        continue;
      }
      unlinkSync(aside);
      log.warn('taking over a stale data directory lock', { path: file, holder_pid: holder?.pid, holder_host: holder?.host, holder_started: holder?.started, reason: why });
    }
    throw new Error(`could not take the data directory lock ${file}: other processes kept creating it`);
  }

  /** Keeps the lock's mtime fresh, so a server on another machine sharing the volume sees it is held. */
  private heartbeat(): void {
    this.timer = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(this.file, now, now);
      } catch (err) {
        this.log.error('could not refresh the data directory lock', { path: this.file, err: (err as Error).message });
      }
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Gives the directory up (on a clean stop); only if the file is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    try {
      const h = parseHolder(readFileSync(this.file, 'utf8'));
      if (h?.pid === process.pid && h.host === hostname()) unlinkSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('could not remove the data directory lock', { path: this.file, err: (err as Error).message });
    }
  }
}

/**
 * Creates the lock file only if none exists. It is written under a temporary name and linked into
 * place, so the lock never exists half-written; false when another lock file is there.
 */
function createExclusive(file: string, body: string): boolean {
  const tmp = `${file}.new-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, body);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A filesystem without hard links: an O_EXCL create is as exclusive, only briefly empty.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') return createWithExcl(file, body);
    throw err;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
  }
}

function createWithExcl(file: string, body: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, body);
  } finally {
    closeSync(fd);
  }
  return true;
}
