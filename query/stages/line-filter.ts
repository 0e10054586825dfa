/**
 * Line filters (`|= != |~ !~ |> !>`, each with `or` alternatives, `|=`/`!=` also with `ip("…")` ones). Leading filters run block-at-a-time over a batch's
 * line bytes: a literal is one forward `Buffer.indexOf` sweep over the whole buffer whose hits are mapped back to
 * entries, and a regex is prefiltered the same way by a literal every match must contain, so only lines that
 * might match are decoded and tested. Filters after a stage that rewrites the line test the string instead.
 */
import type { LineFilterStage } from '../ast.js';
import type { EntryBatch } from '../../src/model/batch.js';
import { compileRegex, type LiteralSet, regexLiterals } from '../regex.js';
import { compileIPSearch } from './ip-search.js';
import { type FilterPattern, longestLiteral, matchesPattern, parseFilterPattern } from './pattern-filter.js';

/** Per-run scratch shared by the filters of one batch: decoded lines and a one-byte-per-char view of the bytes. */
export class BlockContext {
  private strings: (string | undefined)[] | undefined;
  private bytesAsLatin1: string | undefined;
  private foldExact: boolean | undefined;

  constructor(readonly batch: EntryBatch) {}

  line(i: number): string {
    const cache = (this.strings ??= new Array<string | undefined>(this.batch.count));
    let s = cache[i];
    if (s === undefined) {
      s = this.batch.lines.toString('utf8', this.batch.lineOffsets[i]!, this.batch.lineOffsets[i + 1]!);
      cache[i] = s;
    }
    return s;
  }

  /**
   * The batch's bytes as a latin1 string: character index = byte offset, so a case-insensitive regex for an ASCII
   * needle sweeps the whole block at native speed and its match positions map straight back through lineOffsets.
   */
  latin1(): string {
    return (this.bytesAsLatin1 ??= this.batch.lines.toString('latin1'));
  }

  /**
   * Whether ASCII case folding is exact for this batch. RE2 also folds `k` with the Kelvin sign and `s` with the
   * long s; when neither occurs in the bytes (nearly always), an ASCII case-insensitive search finds exactly what
   * the regex would.
   */
  asciiFoldExact(): boolean {
    if (this.foldExact === undefined) {
      const b = this.batch.lines;
      this.foldExact = b.indexOf(KELVIN_SIGN) < 0 && b.indexOf(LONG_S) < 0;
    }
    return this.foldExact;
  }
}

const KELVIN_SIGN = Buffer.from('\u212a', 'utf8');
const LONG_S = Buffer.from('\u017f', 'utf8');

/** A forward search through the batch; `hit` only moves forward while candidates ascend. */
interface Search {
  reset(): void;
  /** Whether the needle occurs within [start, end) of the batch bytes; calls must come with ascending start. */
  within(ctx: BlockContext, start: number, end: number): boolean;
}

class ByteSearch implements Search {
  private hit = -2;

  constructor(private readonly needle: Buffer) {}

  reset(): void {
    this.hit = -2;
  }

  within(ctx: BlockContext, start: number, end: number): boolean {
    const len = this.needle.length;
    if (len === 0) return true;
    if (this.hit !== -1 && this.hit < start) this.hit = ctx.batch.lines.indexOf(this.needle, start);
    // A hit that starts in this line but runs past its end spans into the next entry: not a match.
    return this.hit !== -1 && this.hit + len <= end;
  }
}

/** An ASCII needle matched case-insensitively over the latin1 view of the bytes. */
class FoldSearch implements Search {
  private hit = -2;
  private readonly re: RegExp;

  constructor(private readonly needle: string) {
    this.re = new RegExp(needle.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'), 'gi');
  }

  reset(): void {
    this.hit = -2;
  }

  within(ctx: BlockContext, start: number, end: number): boolean {
    const len = this.needle.length;
    if (len === 0) return true;
    if (this.hit !== -1 && this.hit < start) {
      this.re.lastIndex = start;
      const m = this.re.exec(ctx.latin1());
      this.hit = m ? m.index : -1;
    }
    return this.hit !== -1 && this.hit + len <= end;
  }
}

function anyWithin(searches: Search[], ctx: BlockContext, start: number, end: number): boolean {
  for (let i = 0; i < searches.length; i++) if (searches[i]!.within(ctx, start, end)) return true;
  return false;
}

/** One `or` alternative of a filter. */
interface Probe {
  reset(): void;
  matchesAt(ctx: BlockContext, i: number, start: number, end: number): boolean;
  matchesString(line: string): boolean;
}

class LiteralProbe implements Probe {
  private readonly search: ByteSearch;

  constructor(private readonly text: string) {
    this.search = new ByteSearch(Buffer.from(text, 'utf8'));
  }

  reset(): void {
    this.search.reset();
  }

  matchesAt(ctx: BlockContext, _i: number, start: number, end: number): boolean {
    return this.search.within(ctx, start, end);
  }

  matchesString(line: string): boolean {
    return line.includes(this.text);
  }
}

/** A case-insensitive ASCII literal: a block sweep, exact unless the batch holds a Kelvin sign or long s. */
class FoldedLiteralProbe implements Probe {
  private readonly search: FoldSearch;

  constructor(
    value: string,
    private readonly regex: RegExp,
  ) {
    this.search = new FoldSearch(value);
  }

  reset(): void {
    this.search.reset();
  }

  matchesAt(ctx: BlockContext, i: number, start: number, end: number): boolean {
    if (ctx.asciiFoldExact()) return this.search.within(ctx, start, end);
    return this.regex.test(ctx.line(i));
  }

  matchesString(line: string): boolean {
    return this.regex.test(line);
  }
}

/**
 * Needles of which every match contains one. For case-insensitive sets there are two: the full values, usable
 * when the batch makes ASCII folding exact, and the longest pieces free of k/s and non-ASCII, usable always.
 */
interface Prefilter {
  exact: Search[] | null;
  fold: { full: Search[] | null; safe: Search[] | null } | null;
}

class RegexProbe implements Probe {
  constructor(
    private readonly regex: RegExp,
    private readonly prefilter: Prefilter,
  ) {}

  reset(): void {
    const p = this.prefilter;
    for (const list of [p.exact, p.fold?.full, p.fold?.safe]) if (list) for (const s of list) s.reset();
  }

  matchesAt(ctx: BlockContext, i: number, start: number, end: number): boolean {
    const p = this.prefilter;
    let needles = p.exact;
    if (p.fold) needles = p.fold.full && ctx.asciiFoldExact() ? p.fold.full : p.fold.safe;
    if (needles && !anyWithin(needles, ctx, start, end)) return false;
    return this.regex.test(ctx.line(i));
  }

  matchesString(line: string): boolean {
    return this.regex.test(line);
  }
}

/** A `|>` pattern, prefiltered by its longest literal so most lines that cannot match are never decoded. */
class PatternProbe implements Probe {
  private readonly pattern: FilterPattern;
  private readonly prefilter: ByteSearch | null;

  constructor(src: string) {
    this.pattern = parseFilterPattern(src);
    const lit = longestLiteral(this.pattern);
    this.prefilter = Buffer.byteLength(lit, 'utf8') >= MIN_PREFILTER_BYTES ? new ByteSearch(Buffer.from(lit, 'utf8')) : null;
  }

  reset(): void {
    this.prefilter?.reset();
  }

  matchesAt(ctx: BlockContext, i: number, start: number, end: number): boolean {
    if (this.prefilter && !this.prefilter.within(ctx, start, end)) return false;
    return matchesPattern(this.pattern, ctx.line(i));
  }

  matchesString(line: string): boolean {
    return matchesPattern(this.pattern, line);
  }
}

/** An `ip("…")` operand: the line holds an address in the range. */
class IPProbe implements Probe {
  private readonly found: (line: string) => boolean;

  constructor(pattern: string) {
    this.found = compileIPSearch(pattern);
  }

  reset(): void {}

  matchesAt(ctx: BlockContext, i: number): boolean {
    return this.found(ctx.line(i));
  }

  matchesString(line: string): boolean {
    return this.found(line);
  }
}

const ASCII = /^[\x00-\x7f]*$/;

/** The longest piece of `v` that ASCII case folding finds without false negatives in any batch. */
function foldSafePiece(v: string): string {
  let best = '';
  let cur = '';
  for (const ch of v.toLowerCase()) {
    if (ch.length === 1 && ch.charCodeAt(0) < 0x80 && ch !== 'k' && ch !== 's') {
      cur += ch;
      if (cur.length > best.length) best = cur;
    } else {
      cur = '';
    }
  }
  return best;
}

const MIN_PREFILTER_BYTES = 2;

function prefilterFor(set: LiteralSet | null): Prefilter {
  if (!set) return { exact: null, fold: null };
  if (set.fold !== 'yes') {
    const bufs = set.values.map((v) => Buffer.from(v, 'utf8'));
    if (bufs.some((b) => b.length < MIN_PREFILTER_BYTES)) return { exact: null, fold: null };
    return { exact: bufs.map((b) => new ByteSearch(b)), fold: null };
  }
  const full = set.values.every((v) => ASCII.test(v) && v.length >= MIN_PREFILTER_BYTES) ? set.values.map((v) => new FoldSearch(v)) : null;
  const pieces = set.values.map(foldSafePiece);
  const safe = pieces.every((p) => p.length >= MIN_PREFILTER_BYTES) ? pieces.map((p) => new FoldSearch(p)) : null;
  return { exact: null, fold: { full, safe } };
}

function regexProbes(src: string): Probe[] {
  // A line filter only tests for a match: no captures, so V8's linear-time fallback can take it.
  const regex = compileRegex(src, { anchored: false, captures: false });
  const lits = regexLiterals(src);
  const exact = lits.exact;
  if (exact && exact.fold !== 'yes') return exact.values.map((v) => new LiteralProbe(v));
  if (exact && exact.fold === 'yes' && exact.values.every((v) => ASCII.test(v))) {
    return exact.values.map((v) => new FoldedLiteralProbe(v, regex));
  }
  return [new RegexProbe(regex, prefilterFor(lits.required))];
}

export class LineFilter {
  private readonly probes: Probe[];
  private readonly negate: boolean;

  /** Called every few lines while a regex probe tests lines one by one (see PipelineOptions.interrupt). */
  private readonly interrupt: (() => void) | null;

  constructor(stage: LineFilterStage, interrupt?: () => void) {
    const op = stage.op;
    this.negate = op === '!=' || op === '!~' || op === '!>';
    if (op === '|=' || op === '!=') this.probes = stage.values.map((v, i) => (stage.ip?.[i] ? new IPProbe(v) : new LiteralProbe(v)));
    else if (op === '|>' || op === '!>') this.probes = stage.values.map((v) => new PatternProbe(v));
    else this.probes = stage.values.flatMap(regexProbes);
    this.interrupt = interrupt && this.probes.some((p) => !(p instanceof LiteralProbe)) ? interrupt : null;
  }

  /**
   * Keeps, in place, the entries of `sel[0..n)` (ascending batch indexes) that pass; returns how many remain.
   */
  select(ctx: BlockContext, sel: Uint32Array, n: number): number {
    for (const p of this.probes) p.reset();
    const offsets = ctx.batch.lineOffsets;
    const probes = this.probes;
    const negate = this.negate;
    const interrupt = this.interrupt;
    let kept = 0;
    for (let k = 0; k < n; k++) {
      if (interrupt !== null && (k & 15) === 15) interrupt();
      const i = sel[k]!;
      const start = offsets[i]!;
      const end = offsets[i + 1]!;
      let any = false;
      for (let p = 0; p < probes.length; p++) {
        if (probes[p]!.matchesAt(ctx, i, start, end)) {
          any = true;
          break;
        }
      }
      if (any !== negate) sel[kept++] = i;
    }
    return kept;
  }

  /** The same filter on a line that is already a string (after line_format, decolorize, unpack). */
  test(line: string): boolean {
    let any = false;
    for (const p of this.probes) {
      if (p.matchesString(line)) {
        any = true;
        break;
      }
    }
    return any !== this.negate;
  }
}
