import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FileWrite {
  path: string;
  data: Buffer;
  /** Where the bytes go first; renamed over `path` once written. */
  tmp: string;
}

/** The directory of a file to write could not be made because a file stands where a directory must be. */
export class PathClashError extends Error {
  constructor(readonly path: string, cause: Error) {
    super(`${path}: ${cause.message}`);
    this.name = 'PathClashError';
  }
}

/**
 * Writes files in place the way a put does (temp file, then rename over the target) without syncing each
 * one, then makes the whole lot durable at once with syncfs(2) on the filesystem under `root`, run as
 * `sync -f` since Node has no binding for it: one journal commit for the batch instead of two fsyncs per
 * file. Where `sync -f` cannot run (or fails), every file written and every directory touched is
 * fsynced instead, which is what a put does one at a time.
 *
 * `knownDirs` carries the directories known to exist from one batch to the next, so each is made once.
 *
 * Synchronous on purpose: its caller (chunks flushed while the WAL replays) holds the event loop anyway,
 * and a thread-pool round trip per open/write/close/rename costs more CPU than the calls themselves.
 */
export function writeFilesDurably(root: string, files: readonly FileWrite[], knownDirs: Set<string> = new Set()): void {
  const dirs = new Set<string>();
  // Directories mkdir -p made: from the first it created down to the one the file goes in.
  const newDirs: { first: string; last: string }[] = [];
  for (const f of files) {
    const dir = dirname(f.path);
    const made = () => {
      const created = makeDir(f.path, dir);
      if (created !== undefined) newDirs.push({ first: created, last: dir });
      knownDirs.add(dir);
    };
    if (!knownDirs.has(dir)) made();
    dirs.add(dir);
    try {
      writeOne(f);
    } catch (err) {
      // A directory known from an earlier batch may have been removed since (an empty-directory cleanup).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      made();
      writeOne(f);
    }
  }
  if (files.length === 0 || syncFilesystem(root)) return;
  for (const f of files) fsyncPath(f.path);
  // A new directory's own entry lives in its parent: sync each one made and the parent of the first.
  for (const { first, last } of newDirs) {
    const stop = dirname(first);
    for (let d = last; ; d = dirname(d)) {
      dirs.add(d);
      if (d === stop || d === dirname(d)) break;
    }
  }
  for (const d of dirs) fsyncPath(d);
}

/** mkdir -p; the first directory it created, if any. */
function makeDir(path: string, dir: string): string | undefined {
  try {
    return mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new PathClashError(path, err as Error);
    throw err;
  }
}

function writeOne(f: FileWrite): void {
  const fd = openSync(f.tmp, 'wx', 0o644);
  try {
    for (let off = 0; off < f.data.length; ) off += writeSync(fd, f.data, off, f.data.length - off);
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(f.tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(f.tmp, f.path);
  } catch (err) {
    unlinkQuietly(f.tmp);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'ENOTEMPTY') throw new PathClashError(f.path, err as Error);
    throw err;
  }
}

/** syncfs(2) of the filesystem holding `path`; false when it could not be run or reported failure. */
function syncFilesystem(path: string): boolean {
  const r = spawnSync('sync', ['-f', path], { stdio: 'ignore', timeout: 120_000 });
  return r.error === undefined && r.status === 0;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or the directory is: nothing left to clean.
  }
}
