/**
 * Code point sets for the RE2 translation: sorted, merged inclusive ranges stored flat as [lo0, hi0, lo1, hi1, …].
 * RE2 matches code points and folds case with Unicode simple case folding; V8's linear-time engine supports
 * neither the `u` nor the `i` flag, so case folding and Unicode classes are expanded into explicit sets here.
 */

export type Ranges = number[];

export const MAX_CP = 0x10ffff;

export function normalize(r: Ranges): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]! + 1) {
      if (hi > out[n - 1]!) out[n - 1] = hi;
    } else {
      out.push(lo, hi);
    }
  }
  return out;
}

export function complement(r: Ranges): Ranges {
  const n = normalize(r);
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < n.length; i += 2) {
    if (n[i]! > next) out.push(next, n[i]! - 1);
    next = n[i + 1]! + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

export function contains(r: Ranges, cp: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (cp >= r[i]! && cp <= r[i + 1]!) return true;
  return false;
}

// ---------------------------------------------------------------- case folding

let orbits: Map<number, number[]> | undefined;

/**
 * Every cased code point → the code points it matches case-insensitively. Built once from the engine's own
 * case mappings; dotless ı maps to I by uppercase but RE2 (simple folding) keeps it apart, so it is skipped.
 */
function foldOrbits(): Map<number, number[]> {
  if (orbits) return orbits;
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let p = parent.get(x) ?? x;
    while (p !== (parent.get(p) ?? p)) p = parent.get(p)!;
    return p;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const single = (s: string): number | undefined => {
    const cp = s.codePointAt(0)!;
    return s.length === (cp > 0xffff ? 2 : 1) ? cp : undefined;
  };
  for (let cp = 0; cp <= 0x1ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (cp === 0x131 || cp === 0x130) continue;
    const s = String.fromCodePoint(cp);
    const lo = single(s.toLowerCase());
    const up = single(s.toUpperCase());
    if (lo !== undefined && lo !== cp && lo !== 0x131 && lo !== 0x130) union(cp, lo);
    if (up !== undefined && up !== cp && up !== 0x131 && up !== 0x130) union(cp, up);
  }
  // RE2 folds the sharp s with its capital although JavaScript uppercases ß to "SS".
  union(0xdf, 0x1e9e);
  const groups = new Map<number, number[]>();
  for (const cp of parent.keys()) {
    const root = find(cp);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = [root]));
    if (cp !== root) g.push(cp);
  }
  orbits = new Map();
  for (const g of groups.values()) {
    g.sort((a, b) => a - b);
    for (const cp of g) orbits.set(cp, g);
  }
  return orbits;
}

/** The code points `cp` matches under case folding (itself included). */
export function foldOrbit(cp: number): number[] {
  return foldOrbits().get(cp) ?? [cp];
}

export function isCased(cp: number): boolean {
  return foldOrbits().has(cp);
}

/** Adds the case variants of every member. */
export function foldRanges(r: Ranges): Ranges {
  const map = foldOrbits();
  const out = r.slice();
  let size = 0;
  for (let i = 0; i < r.length; i += 2) size += r[i + 1]! - r[i]! + 1;
  if (size < map.size) {
    for (let i = 0; i < r.length; i += 2) {
      for (let cp = r[i]!; cp <= r[i + 1]!; cp++) {
        const o = map.get(cp);
        if (o) for (const x of o) out.push(x, x);
      }
    }
  } else {
    for (const [cp, o] of map) {
      if (contains(r, cp)) for (const x of o) out.push(x, x);
    }
  }
  return normalize(out);
}

// ---------------------------------------------------------------- named classes

export const PERL_CLASSES: Record<string, Ranges> = {
  d: [0x30, 0x39],
  s: [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20],
  w: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
};

export const POSIX_CLASSES: Record<string, Ranges> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};

const unicodeCache = new Map<string, Ranges>();

/**
 * `\p{Greek}`, `\pL`: RE2 accepts general categories and scripts. The set is computed once per name by asking
 * the engine's own Unicode tables (a `u` regex tested against every code point).
 */
export function unicodeClass(name: string): Ranges | undefined {
  const cached = unicodeCache.get(name);
  if (cached) return cached;
  if (name === 'Any') return [0, MAX_CP];
  if (!/^[A-Za-z_]+$/.test(name)) return undefined;
  let re: RegExp | undefined;
  for (const src of [`^\\p{gc=${name}}$`, `^\\p{Script=${name}}$`]) {
    try {
      re = new RegExp(src, 'u');
      break;
    } catch {
      // not a name of this kind; try the next
    }
  }
  if (!re) return undefined;
  const out: Ranges = [];
  let start = -1;
  for (let cp = 0; cp <= MAX_CP + 1; cp++) {
    const hit = cp <= MAX_CP && !(cp >= 0xd800 && cp <= 0xdfff && name !== 'Cs' && name !== 'C') && re.test(String.fromCodePoint(cp));
    if (hit && start < 0) start = cp;
    else if (!hit && start >= 0) {
      out.push(start, cp - 1);
      start = -1;
    }
  }
  unicodeCache.set(name, out);
  return out;
}
