import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';

/** Compressed rotations we cannot decompress; they are reported, not read. */
const UNREADABLE = /\.(bz2|xz|zst|zip|lz4)$/;

/** One file of a path's rotation chain: the rotated copies (oldest first), then the file at the path itself. */
export interface ChainFile {
  name: string;
  dev: bigint;
  ino: bigint;
  /** Bytes on disk (compressed size for `.gz`). */
  size: number;
  gzip: boolean;
  /** The file at the target path itself, not a rotated copy. */
  current: boolean;
}

/**
 * How rotated names sort, oldest first. kubelet and logrotate's `dateext` append a timestamp (`0.log.20240101-
 * 150405`, ascending), plain logrotate a number (`app.log.1` is the newest). Names say the order better than
 * modification times: kubelet compresses the previous rotation in the same moment it renames the current
 * file, so both get the same time.
 */
function suffixOrder(prefix: string) {
  const key = (n: string) => n.slice(prefix.length).replace(/\.gz$/, '');
  return (a: { name: string; mtimeNs: bigint }, b: { name: string; mtimeNs: bigint }): number => {
    const ka = key(basename(a.name));
    const kb = key(basename(b.name));
    if (/^\d+$/.test(ka) && /^\d+$/.test(kb) && ka !== kb) return Number(kb) - Number(ka);
    if (ka !== kb) return ka < kb ? -1 : 1;
    return a.mtimeNs < b.mtimeNs ? -1 : a.mtimeNs > b.mtimeNs ? 1 : 0;
  };
}

/**
 * The files of `path`'s rotation chain as they are now: `<name>.<suffix>` or `<name>-<suffix>` beside it, maybe
 * `.gz` (temporary `.tmp` files excluded), ordered oldest first, then the file at the path if there is one.
 * `unreadable` lists rotated copies in a compression we cannot read.
 */
export async function listChain(path: string): Promise<{ files: ChainFile[]; unreadable: string[] }> {
  const dir = dirname(path);
  const base = basename(path);
  const prefix = base + '.';
  const files: (ChainFile & { mtimeNs: bigint })[] = [];
  const unreadable: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    // the directory is gone: no rotated copies either
  }
  for (const n of names) {
    if (!(n.startsWith(prefix) || n.startsWith(base + '-')) || n.endsWith('.tmp') || n.length === prefix.length) continue;
    if (UNREADABLE.test(n)) {
      unreadable.push(join(dir, n));
      continue;
    }
    const st = await statFile(join(dir, n));
    if (st) files.push(chainFile(join(dir, n), st, n.endsWith('.gz'), false));
  }
  files.sort(suffixOrder(prefix));
  const cur = await statFile(path);
  if (cur) files.push(chainFile(path, cur, false, true));
  return { files, unreadable };
}

function chainFile(name: string, st: BigIntStats, gzip: boolean, current: boolean): ChainFile & { mtimeNs: bigint } {
  return { name, dev: st.dev, ino: st.ino, size: Number(st.size), gzip, current, mtimeNs: st.mtimeNs };
}

async function statFile(p: string): Promise<BigIntStats | undefined> {
  try {
    const st = await stat(p, { bigint: true });
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}

export function hashHead(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

/** The first `len` bytes of a file (decompressed for gzip), or fewer when it is shorter. */
export async function readHead(name: string, gzip: boolean, len: number): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(name, 'r');
  } catch {
    return undefined;
  }
  try {
    // gzip expands, so a compressed prefix this size holds far more than `len` bytes of text.
    const want = gzip ? 64 * 1024 : len;
    const buf = Buffer.alloc(want);
    const { bytesRead } = await fh.read(buf, 0, want, 0);
    if (!gzip) return buf.subarray(0, bytesRead);
    try {
      // A sync flush decompresses what a prefix holds instead of failing on the missing end.
      return gunzipSync(buf.subarray(0, bytesRead), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, len);
    } catch {
      return undefined;
    }
  } finally {
    await fh.close();
  }
}
