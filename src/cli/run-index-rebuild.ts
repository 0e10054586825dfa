import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../model/logger.js';
import { FsObjectStore } from '../store/fs-object-store.js';
import { moveAside, rebuildAndReport } from '../store/index-recovery.js';
import { LabelIndex } from '../store/label-index.js';
import type { ObjectStore } from '../store/object-store.js';
import { S3ObjectStore } from '../store/s3-object-store.js';

const SIDE_FILES = ['', '-wal', '-shm'];

function openStore(cfg: Config): ObjectStore {
  return cfg.storage.backend === 's3' ? new S3ObjectStore(cfg.storage.s3) : new FsObjectStore(join(cfg.storage.path, 'chunks'));
}

/**
 * The PID named by the data directory's lock file when that process is alive. Best effort: the lock's
 * format belongs to the server, so any number in it is taken as its holder.
 */
function liveLockHolder(dataDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'narvi.lock'), 'utf8');
  } catch {
    return null;
  }
  const m = /\d+/.exec(text);
  if (!m) return null;
  const pid = Number(m[0]);
  if (pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/**
 * `narvi index rebuild`: builds a new index from the store beside the old one, then swaps it in (the old
 * file is kept as `index.sqlite.replaced-<time>`). A crash midway leaves the old index in place.
 * Resolves with the exit code.
 */
export async function runIndexRebuild(args: string[]): Promise<number> {
  let cfg: Config;
  try {
    cfg = loadConfig(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`narvi index rebuild: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(cfg.server.logLevel as 'info', 'index-rebuild');
  const holder = liveLockHolder(cfg.storage.path);
  if (holder !== null) {
    process.stderr.write(`narvi index rebuild: ${cfg.storage.path} is in use by process ${holder} (${join(cfg.storage.path, 'narvi.lock')}); stop the server first\n`);
    return 1;
  }
  const path = join(cfg.storage.path, 'index', 'index.sqlite');
  const tmp = `${path}.rebuilding`;
  for (const s of SIDE_FILES) rmSync(tmp + s, { force: true });
  const index = new LabelIndex(tmp);
  let stats;
  try {
    stats = await rebuildAndReport(index, openStore(cfg), log, 'requested');
    // Folds SQLite's write-ahead file into the database so the renamed file is complete on its own.
    index.db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (err) {
    index.close();
    for (const s of SIDE_FILES) rmSync(tmp + s, { force: true });
    process.stderr.write(`narvi index rebuild: failed, the old index is untouched: ${(err as Error).message}\n`);
    return 1;
  }
  index.close();
  const moved = existsSync(path) ? moveAside(path, 'replaced', SIDE_FILES) : [];
  for (const s of SIDE_FILES.slice(1)) rmSync(tmp + s, { force: true });
  renameSync(tmp, path);
  process.stdout.write(
    `rebuilt ${path}: ${stats.streams} streams, ${stats.chunks} chunks, ${stats.entries} entries` +
      (stats.unreadableChunks > 0 ? `; ${stats.unreadableChunks} unreadable chunks left out` : '') +
      (stats.chunksWithoutLabels > 0 ? `; ${stats.chunksWithoutLabels} chunks of ${stats.streamsWithoutLabels} streams left out (no labels object: flushed by an older narvi)` : '') +
      (moved.length > 0 ? `; the old index is kept as ${moved[0]}` : '') +
      '\n',
  );
  return 0;
}
