import type { BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FilePosition } from './positions.js';

/** Rotated copies that are compressed can no longer be read where we left off. */
const COMPRESSED = /\.(gz|bz2|xz|zst|zip)$/;

export interface RotatedFile {
  path: string;
  stat: BigIntStats;
}

/**
 * At startup, a saved position whose file is no longer at its path may have been rotated while the agent was
 * down: kubelet renames `0.log` to `0.log.20240101-150405`, logrotate to `app.log.1`. Finds the file with the
 * saved device and inode among those names, plus the rotated files written after it that have no saved
 * position (created and rotated away entirely while the agent was down), oldest first.
 */
export async function findRotated(fp: FilePosition, savedKeys: Set<string>): Promise<{ file: RotatedFile; newer: RotatedFile[] } | undefined> {
  const dir = dirname(fp.path);
  const prefix = basename(fp.path) + '.';
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const candidates: RotatedFile[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix) || COMPRESSED.test(n) || n.endsWith('.tmp')) continue;
    try {
      const st = await stat(join(dir, n), { bigint: true });
      if (st.isFile()) candidates.push({ path: join(dir, n), stat: st });
    } catch {
      // vanished meanwhile
    }
  }
  const file = candidates.find((c) => c.stat.ino === fp.ino && c.stat.dev === fp.dev);
  if (!file) return undefined;
  const newer = candidates
    .filter((c) => c !== file && c.stat.mtimeNs >= file.stat.mtimeNs && !savedKeys.has(`${c.stat.dev}:${c.stat.ino}`))
    .sort((a, b) => (a.stat.mtimeNs < b.stat.mtimeNs ? -1 : a.stat.mtimeNs > b.stat.mtimeNs ? 1 : 0));
  return { file, newer };
}
