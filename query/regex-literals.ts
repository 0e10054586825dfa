/**
 * Literal analysis of a parsed RE2 regex, for line filters: which literal strings a match must contain (so a
 * `Buffer.indexOf` over a whole block can discard most lines before any regex runs), and whether the regex is
 * nothing more than "contains one of these strings" (so no regex runs at all).
 */
import { isCased } from './regex-charset.js';
import type { ReNode } from './regex-syntax.js';

/** `fold`: 'yes' when matched case-insensitively, 'no' when exactly, 'any' when no value holds a cased letter. */
export interface LiteralSet {
  values: string[];
  fold: 'yes' | 'no' | 'any';
}

const MAX_VALUES = 16;
const MAX_CLASS_EXPANSION = 4;

function joinFold(a: LiteralSet['fold'], b: LiteralSet['fold']): LiteralSet['fold'] | null {
  if (a === 'any') return b;
  if (b === 'any' || a === b) return a;
  return null;
}

function litFold(cp: number, fold: boolean): LiteralSet['fold'] {
  if (fold) return 'yes';
  return isCased(cp) ? 'no' : 'any';
}

function product(a: LiteralSet, b: LiteralSet): LiteralSet | null {
  const fold = joinFold(a.fold, b.fold);
  if (fold === null || a.values.length * b.values.length > MAX_VALUES) return null;
  const values: string[] = [];
  for (const x of a.values) for (const y of b.values) values.push(x + y);
  return { values, fold };
}

function union(a: LiteralSet, b: LiteralSet): LiteralSet | null {
  const fold = joinFold(a.fold, b.fold);
  if (fold === null || a.values.length + b.values.length > MAX_VALUES) return null;
  return { values: [...new Set([...a.values, ...b.values])], fold };
}

/** The exact set of strings the node matches, when it is a small finite set of literals; else null. */
export function exactLiterals(node: ReNode): LiteralSet | null {
  switch (node.t) {
    case 'lit':
      return { values: [String.fromCodePoint(node.cp)], fold: litFold(node.cp, node.fold) };
    case 'empty':
      return { values: [''], fold: 'any' };
    case 'group':
      return exactLiterals(node.sub);
    case 'class': {
      if (node.neg) return null;
      let size = 0;
      for (let i = 0; i < node.ranges.length; i += 2) size += node.ranges[i + 1]! - node.ranges[i]! + 1;
      if (size === 0 || size > MAX_CLASS_EXPANSION) return null;
      const values: string[] = [];
      let fold: LiteralSet['fold'] = 'any';
      for (let i = 0; i < node.ranges.length; i += 2) {
        for (let cp = node.ranges[i]!; cp <= node.ranges[i + 1]!; cp++) {
          values.push(String.fromCodePoint(cp));
          if (isCased(cp)) fold = 'no';
        }
      }
      return { values, fold };
    }
    case 'concat': {
      let acc: LiteralSet | null = { values: [''], fold: 'any' };
      for (const s of node.subs) {
        const e = exactLiterals(s);
        if (!e) return null;
        acc = product(acc, e);
        if (!acc) return null;
      }
      return acc;
    }
    case 'alt': {
      let acc: LiteralSet | null = null;
      for (const s of node.subs) {
        const e = exactLiterals(s);
        if (!e) return null;
        acc = acc ? union(acc, e) : e;
        if (!acc) return null;
      }
      return acc;
    }
    default:
      return null;
  }
}

function minLength(s: LiteralSet): number {
  let m = Infinity;
  for (const v of s.values) m = Math.min(m, Buffer.byteLength(v));
  return m;
}

function better(a: LiteralSet | null, b: LiteralSet | null): LiteralSet | null {
  if (!a) return b;
  if (!b) return a;
  const la = minLength(a);
  const lb = minLength(b);
  if (la !== lb) return la > lb ? a : b;
  return a.values.length <= b.values.length ? a : b;
}

/** Strings of which every match contains at least one (none empty), or null when there is no such set. */
export function requiredLiterals(node: ReNode): LiteralSet | null {
  const exact = exactLiterals(node);
  if (exact) return minLength(exact) > 0 ? exact : null;
  switch (node.t) {
    case 'group':
      return requiredLiterals(node.sub);
    case 'repeat':
      return node.min >= 1 ? requiredLiterals(node.sub) : null;
    case 'alt': {
      let acc: LiteralSet | null = null;
      for (const s of node.subs) {
        const r = requiredLiterals(s);
        if (!r) return null;
        acc = acc ? union(acc, r) : r;
        if (!acc) return null;
      }
      return acc;
    }
    case 'concat': {
      let best: LiteralSet | null = null;
      let run: LiteralSet | null = null;
      const closeRun = () => {
        if (run && minLength(run) > 0) best = better(best, run);
        run = null;
      };
      for (const s of node.subs) {
        const e = exactLiterals(s);
        if (e) {
          const next: LiteralSet | null = run ? product(run, e) : e;
          if (next) {
            run = next;
            continue;
          }
          closeRun();
          run = e;
          continue;
        }
        closeRun();
        best = better(best, requiredLiterals(s));
      }
      closeRun();
      return best;
    }
    default:
      return null;
  }
}
