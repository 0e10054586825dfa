import type { FilePosition, Positions } from './positions.js';
import { hashHead, readHead, type ChainFile } from './rotated.js';

/** Fewer leading bytes than this cannot tell one file from another when the inode does not. */
const MIN_HEAD = 16;

export interface ChainPlan {
  /** The files still to read, oldest first, each with its record (new files get one at offset 0). */
  read: { file: ChainFile; fp: FilePosition; fresh: boolean }[];
  /** Records of files with unread data that no longer exist. */
  lost: FilePosition[];
  /** Records of finished files that no longer exist: nothing to remember them for. */
  gone: FilePosition[];
}

async function headMatches(fp: FilePosition, file: ChainFile): Promise<boolean> {
  const head = await readHead(file.name, file.gzip, fp.headLen);
  return head !== undefined && head.length === fp.headLen && hashHead(head) === fp.head;
}

/** Is `file` still the file `fp` describes, now that its inode matched? Inodes are reused after deletion. */
async function sameFile(fp: FilePosition, file: ChainFile): Promise<boolean> {
  // Being read through an open descriptor: that is the file, whatever its content looks like now.
  if (fp.claimed) return true;
  if (fp.gzip !== file.gzip) return false;
  if (!file.gzip && file.size < fp.acked) return false; // truncated (copytruncate) or another file
  if (fp.headLen > 0) return headMatches(fp, file);
  // Nothing read from it yet: an unfinished record at 0 loses nothing by matching; a finished one could skip a stranger.
  return !fp.done;
}

/**
 * Decides what to read of a path's rotation chain (`files`, oldest first, the file at the path last) given the
 * records of the files read from it before. A record is matched to its file by inode (checked against its
 * first bytes), else by its first bytes alone (a rotated file compressed to `.gz`, or the copy logrotate's
 * copytruncate made). Files after the oldest matched one that have no record appeared while nobody read them
 * (rotated several times in between, or while the agent was down) and are read whole. With no record at
 * all, a path seen for the first time reads only its current file, unless `history` (the agent ran before
 * and the path appeared while it was down) asks for its rotated copies too.
 */
export async function planChain(path: string, files: ChainFile[], records: FilePosition[], positions: Positions, history: boolean): Promise<ChainPlan> {
  const matched = new Map<ChainFile, FilePosition>();
  const unmatched: FilePosition[] = [];
  for (const fp of records) {
    const f = files.find((x) => !matched.has(x) && x.dev === fp.dev && x.ino === fp.ino);
    if (f && (await sameFile(fp, f))) matched.set(f, fp);
    else unmatched.push(fp);
  }
  const lost: FilePosition[] = [];
  const gone: FilePosition[] = [];
  for (const fp of unmatched) {
    let found: ChainFile | undefined;
    if (fp.headLen >= MIN_HEAD && !fp.claimed) {
      for (const f of files) {
        if (matched.has(f) || (!f.gzip && f.size < fp.acked)) continue;
        if (await headMatches(fp, f)) {
          found = f;
          break;
        }
      }
    }
    if (found) {
      matched.set(found, fp);
      positions.rekey(fp, found.dev, found.ino);
      fp.gzip = found.gzip;
    } else if (fp.claimed) {
      // Deleted, but still open and being read: not lost.
    } else if (fp.done) gone.push(fp);
    else lost.push(fp);
  }

  const firstMatched = files.findIndex((f) => matched.has(f));
  const known = [...matched.values()].filter((fp) => fp.headLen >= MIN_HEAD);
  const read: ChainPlan['read'] = [];
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const fp = matched.get(f);
    if (fp) {
      fp.file = f.name;
      // A finished file renamed back to the path is live again.
      if (fp.done && f.current) fp.done = false;
      if (!fp.done) read.push({ file: f, fp, fresh: false });
      continue;
    }
    const fresh = firstMatched >= 0 ? i > firstMatched : records.length > 0 || history || f.current;
    if (!fresh) continue;
    // A compressed copy of a file already read (compression finished, the original not yet deleted).
    if (f.gzip && (await isCopyOfKnown(f, known))) continue;
    // The same inode is being read under another path (a link): reading it here would send it twice.
    if (positions.get(f.dev, f.ino)?.claimed) continue;
    const nfp = positions.fresh(path, f.dev, f.ino);
    nfp.file = f.name;
    nfp.gzip = f.gzip;
    read.push({ file: f, fp: nfp, fresh: true });
  }
  return { read, lost, gone };
}

async function isCopyOfKnown(f: ChainFile, known: FilePosition[]): Promise<boolean> {
  for (const fp of known) if (await headMatches(fp, f)) return true;
  return false;
}
