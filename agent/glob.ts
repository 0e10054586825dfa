import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

/**
 * File globs for static targets: `*` and `?` within one path segment, `[abc]`/`[a-z]`/`[!x]` classes,
 * `{a,b}` alternatives and `**` for any number of directories (as promtail's `__path__` allows).
 */
export function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else if (c === '{') {
      const close = seg.indexOf('}', i);
      if (close < 0) re += '\\{';
      else {
        re += '(?:' + seg.slice(i + 1, close).split(',').map((alt) => segmentRegExp(alt).source.slice(1, -1)).join('|') + ')';
        i = close;
      }
    } else re += c.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

const MAGIC = /[*?[{]/;

export function hasMagic(s: string): boolean {
  return MAGIC.test(s);
}

/** Every regular file matching the glob, sorted. Unreadable directories are skipped. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  const parts = abs.split(sep).filter((p) => p !== '');
  let i = 0;
  while (i < parts.length && !hasMagic(parts[i]!)) i++;
  const base = sep + parts.slice(0, i).join(sep);
  const rest = parts.slice(i);
  const out: string[] = [];
  if (rest.length === 0) {
    if (await isFile(base)) out.push(base);
    return out;
  }
  await walk(base, rest.map((s) => (s === '**' ? '**' : segmentRegExp(s))), out);
  return [...new Set(out)].sort();
}

async function walk(dir: string, segs: (RegExp | '**')[], out: string[]): Promise<void> {
  const [seg, ...rest] = segs;
  if (seg === undefined) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  if (seg === '**') {
    // Zero directories…
    await walk(dir, rest, out);
    // …or one more, keeping `**` for deeper levels.
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), segs, out);
    return;
  }
  for (const e of entries) {
    if (!seg.test(e.name)) continue;
    const p = join(dir, e.name);
    if (rest.length === 0) {
      if (e.isFile() || (e.isSymbolicLink() && (await isFile(p)))) out.push(p);
    } else if (e.isDirectory() || e.isSymbolicLink()) {
      await walk(p, rest, out);
    }
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Whether `path` matches the glob (used to find the target of a saved position). */
export function globMatches(pattern: string, path: string): boolean {
  const pp = (isAbsolute(pattern) ? pattern : resolve(pattern)).split(sep).filter(Boolean);
  const fp = path.split(sep).filter(Boolean);
  const match = (i: number, j: number): boolean => {
    if (i === pp.length) return j === fp.length;
    if (pp[i] === '**') {
      for (let k = j; k <= fp.length; k++) if (match(i + 1, k)) return true;
      return false;
    }
    return j < fp.length && segmentRegExp(pp[i]!).test(fp[j]!) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
