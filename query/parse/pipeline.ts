/** The log pipeline after a selector: line filters, parsers, label filters, formatting stages and unwrap. */
import type {
  CompareOp,
  DropKeepItem,
  ExtractionParam,
  LabelFilterExpr,
  LabelFormatItem,
  LineFilterStage,
  Matcher,
  PipelineStage,
  Unwrap,
} from '../ast.js';
import type { Token } from '../lexer.js';
import { JsonPathError, parseJsonPath } from '../stages/json-path.js';
import { parseTemplate, TemplateParseError } from '../template/parser.js';
import { ParseError, quoteShort } from '../parse-error.js';
import type { Cursor } from './cursor.js';
import { checkIPPattern } from './ip-pattern.js';
import { goQuote } from '../go-values.js';
import { parseIPPattern } from '../stages/ip-search.js';
import { checkLineFilterPattern, checkPattern } from './pattern-check.js';
import { checkRegexAt, isMatchOp, parseMatcherRest } from './selector.js';
import { isNaNOrInf, nanOrInfValue } from './signed-number.js';

/** The pieces of a log expression collected while parsing, possibly across parentheses and a range. */
export interface LogParts {
  matchers: Matcher[];
  stages: PipelineStage[];
  unwrap?: Unwrap;
  /** Where `unwrap` was written, for errors about it. */
  unwrapPos?: number;
}

const FILTER_OPS = new Set(['=', '!=', '=~', '!~', '==', '>', '>=', '<', '<=']);
const FILTER_OPS_EXPECTED = '= or != or =~ or !~ or == or > or >= or < or <=';
const STAGE_EXPECTED =
  'a parser (json, logfmt, regexp, pattern, unpack), a label filter like status >= 400, line_format, label_format, drop, keep, decolorize or unwrap';
const STAGE_KEYWORDS = new Set([
  'json', 'logfmt', 'regexp', 'pattern', 'unpack', 'decolorize', 'line_format', 'label_format', 'drop', 'keep', 'unwrap',
]);
const STRICT_IP_PATTERN = 'the pattern is read exactly, without spaces: an address (10.0.0.1), a CIDR range (10.0.0.0/8) or a range (10.0.0.1-10.0.0.9)';
const LINE_FILTER_OPS = new Set(['|=', '!=', '|~', '!~', '|>', '!>']);

function isFilterOp(t: Token): boolean {
  return t.type === 'op' && FILTER_OPS.has(t.text);
}

/** Tokens that can end a stage; seeing one right after a bare name means the name was meant as a stage. */
function endsStage(t: Token): boolean {
  return t.type === 'eof' || t.type === 'ident' || (t.type === 'op' && (t.text === '|' || t.text === ')' || t.text === '['));
}

/**
 * Parses stages while the next token starts one, appending to `parts`. Once unwrap is seen only label filters
 * may follow (they filter the unwrapped samples). `allowUnwrap` is false outside range aggregations.
 */
export function parsePipelineInto(c: Cursor, parts: LogParts, allowUnwrap: boolean): void {
  for (;;) {
    const t = c.peek();
    if (t.type !== 'op') return;
    if (LINE_FILTER_OPS.has(t.text)) {
      if (parts.unwrap) c.fail(t.pos, `only label filters can follow unwrap, found the line filter ${t.text}`);
      parts.stages.push(parseLineFilter(c));
      continue;
    }
    if (t.text !== '|') return;
    c.next();
    parseStageAfterPipe(c, parts, allowUnwrap);
  }
}

function parseStageAfterPipe(c: Cursor, parts: LogParts, allowUnwrap: boolean): void {
  const t = c.peek();
  const isKeyword = t.type === 'ident' && STAGE_KEYWORDS.has(t.text) && !isFilterOp(c.peek(1));
  if (parts.unwrap) {
    if (isKeyword) c.unexpectedWith(t, `only label filters can follow unwrap, found ${t.text}`);
    if (t.type !== 'ident' && !c.atOp('(')) c.unexpected(t, 'a label filter like __error__=""');
    parts.unwrap.postFilters.push(parseLabelFilter(c));
    return;
  }
  if (isKeyword) {
    parseKeywordStage(c, parts, allowUnwrap);
    return;
  }
  if (t.type === 'ident') {
    // Loki reads the word as the start of a label filter and stumbles on what follows it.
    if (endsStage(c.peek(1))) c.fail(t.pos, `syntax error: unexpected ${c.nameOf(c.peek(1))}: unknown pipeline stage ${JSON.stringify(t.text)}: expecting ${STAGE_EXPECTED}`);
    parts.stages.push({ kind: 'label_filter', expr: parseLabelFilter(c) });
    return;
  }
  if (c.atOp('(')) {
    parts.stages.push({ kind: 'label_filter', expr: parseLabelFilter(c) });
    return;
  }
  c.unexpected(t, STAGE_EXPECTED);
}

function parseKeywordStage(c: Cursor, parts: LogParts, allowUnwrap: boolean): void {
  const kw = c.next();
  switch (kw.text) {
    case 'json':
      parts.stages.push({ kind: 'json', params: parseExtractionParams(c, true) });
      return;
    case 'logfmt': {
      let strict = false;
      let keepEmpty = false;
      while (c.peek().type === 'flag') {
        const f = c.next();
        if (f.text === '--strict') strict = true;
        else if (f.text === '--keep-empty') keepEmpty = true;
        else c.fail(f.pos, `unknown logfmt flag ${f.text}: allowed flags are --strict and --keep-empty`);
      }
      parts.stages.push({ kind: 'logfmt', strict, keepEmpty, params: parseExtractionParams(c, false) });
      return;
    }
    case 'regexp': {
      const s = c.expectString('STRING (the regular expression)');
      const checked = checkStageRegex(c, s, true);
      if (checked.groupNames.length === 0) {
        c.fail(s.pos, `at least one named capture must be supplied: the regexp stage needs a named capture group like (?P<name>…), got ${quoteShort(s.value)}`);
      }
      parts.stages.push({ kind: 'regexp', pattern: s.value });
      return;
    }
    case 'pattern': {
      const s = c.expectString('STRING (the pattern, like "<ip> - <_>")');
      const problem = checkPattern(s.value);
      if (problem !== undefined) c.fail(s.pos, problem);
      parts.stages.push({ kind: 'pattern', pattern: s.value });
      return;
    }
    case 'unpack':
      parts.stages.push({ kind: 'unpack' });
      return;
    case 'decolorize':
      parts.stages.push({ kind: 'decolorize' });
      return;
    case 'line_format': {
      const s = c.expectString('STRING (the line template)');
      checkTemplateAt(c, s, 'line_format', s.value, 'invalid line template');
      parts.stages.push({ kind: 'line_format', template: s.value });
      return;
    }
    case 'label_format':
      parts.stages.push({ kind: 'label_format', items: parseLabelFormatItems(c) });
      return;
    case 'drop':
    case 'keep':
      parts.stages.push({ kind: kw.text, items: parseDropKeepItems(c, kw.text) });
      return;
    case 'unwrap':
      if (!allowUnwrap) {
        c.unexpectedWith(kw, 'unwrap is only allowed inside a range aggregation such as sum_over_time({…} | unwrap latency [1m])');
      }
      parts.unwrap = parseUnwrap(c);
      parts.unwrapPos = kw.pos;
      return;
  }
}

/**
 * A template that cannot compile fails the query here, at its string, rather than when the engine builds the stage.
 * `loki` is how Loki introduces the same failure.
 */
function checkTemplateAt(c: Cursor, tok: Token, what: string, src: string, loki: string): void {
  try {
    parseTemplate(src);
  } catch (e) {
    if (e instanceof TemplateParseError) c.fail(tok.pos, `${loki}: invalid ${what} template ${quoteShort(src)}: ${e.message}`);
    throw e;
  }
}

/**
 * A regex of the regexp stage or a `|~`/`!~` filter: a bad one fails with Loki's `error parsing regexp` phrase, and in
 * the regexp stage a repeated group name with Loki's `duplicate extracted label name`.
 */
function checkStageRegex(c: Cursor, tok: Token, stage: boolean): ReturnType<typeof checkRegexAt> {
  try {
    return checkRegexAt(c, tok, tok.value!, false);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    if (stage && e.detail.includes('duplicate capture group name')) {
      c.fail(tok.pos, `duplicate extracted label name${duplicateGroupName(tok.value!)}: ${e.detail}`);
    }
    c.fail(tok.pos, `error parsing regexp: ${e.detail}`);
  }
}

/** ` 'name'` for the first group name used twice in `re` (best effort, for the message only). */
function duplicateGroupName(re: string): string {
  const seen = new Set<string>();
  for (const m of re.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)) {
    if (seen.has(m[1]!)) return ` '${m[1]}'`;
    seen.add(m[1]!);
  }
  return '';
}

function parseLineFilter(c: Cursor): LineFilterStage {
  const opTok = c.next();
  const op = opTok.text as LineFilterStage['op'];
  const values: string[] = [];
  let ip: boolean[] | undefined;
  // A log query cannot be an operand of the binary `or`, so an `or` here always continues the filter; every
  // operand takes the filter's own match type.
  for (;;) {
    const isIP = c.atIdent('ip') && c.atOp('(', 1);
    values.push(isIP ? parseIPOperand(c, op) : parseLineFilterValue(c, op));
    if (isIP) (ip ??= new Array<boolean>(values.length - 1).fill(false)).push(true);
    else ip?.push(false);
    if (!c.atIdent('or')) break;
    c.next();
  }
  return ip ? { kind: 'line_filter', op, values, ip } : { kind: 'line_filter', op, values };
}

function parseLineFilterValue(c: Cursor, op: LineFilterStage['op']): string {
  const pattern = op === '|>' || op === '!>';
  const s = pattern ? c.expectString('STRING (a pattern like "<_> error <_>")') : op === '|=' || op === '!=' ? c.expectString('STRING or ip("…")') : c.expectString();
  if (op === '|~' || op === '!~') checkStageRegex(c, s, false);
  if (pattern) {
    const problem = checkLineFilterPattern(s.value!);
    if (problem !== undefined) c.fail(s.pos, problem);
  }
  return s.value!;
}

/** An `ip()` pattern, line or label filter alike: the range the filter will use decides; checkIPPattern only words the reason. */
function checkIPOperand(c: Cursor, s: Token): void {
  if (parseIPPattern(s.value!) === undefined) c.fail(s.pos, `ip: invalid pattern: ${goQuote(s.value!)}: ${checkIPPattern(s.value!) ?? STRICT_IP_PATTERN}`);
}

/** `ip("10.0.0.0/8")` after a line filter operator: only `|=` and `!=` take one, and the pattern is checked here. */
function parseIPOperand(c: Cursor, op: LineFilterStage['op']): string {
  const ipTok = c.next();
  if (op !== '|=' && op !== '!=') {
    c.fail(ipTok.pos, `ip: invalid operation: ip() line filters only work with |= and !=, not ${op}`);
  }
  c.next();
  const s = c.expectString('STRING (an address, CIDR or range)');
  checkIPOperand(c, s);
  c.expectOp(')');
  return s.value!;
}

/** `jsonPaths`: the expressions are json paths, checked here so a bad one is a parse error rather than a failed query. */
function parseExtractionParams(c: Cursor, jsonPaths: boolean): ExtractionParam[] {
  const params: ExtractionParam[] = [];
  if (!c.atIdent()) return params;
  for (;;) {
    const name = c.expectIdent('IDENTIFIER (a label name)');
    if (c.atOp('=')) {
      c.next();
      const expr = c.expectString('STRING (the expression to extract, like "response.code")');
      if (jsonPaths) {
        try {
          parseJsonPath(expr.value);
        } catch (e) {
          if (e instanceof JsonPathError) c.fail(expr.pos, `cannot parse expression: ${e.message}`);
          throw e;
        }
      }
      params.push({ label: name.text, expr: expr.value });
    } else {
      params.push({ label: name.text, expr: name.text });
    }
    if (!c.atOp(',')) return params;
    c.next();
  }
}

function parseLabelFormatItems(c: Cursor): LabelFormatItem[] {
  const items: LabelFormatItem[] = [];
  const seen = new Set<string>();
  for (;;) {
    const dst = c.expectIdent('IDENTIFIER (the label to set)');
    if (dst.text === '__error__') c.fail(dst.pos, '__error__ cannot be formatted: label_format cannot set __error__, which only the pipeline sets; use a label filter on it instead');
    if (seen.has(dst.text)) {
      c.fail(dst.pos, `multiple label name '${dst.text}' not allowed in a single format operation: label ${JSON.stringify(dst.text)} is set more than once in a single label_format`);
    }
    seen.add(dst.text);
    c.expectOp('=');
    const v = c.peek();
    if (v.type === 'ident') {
      c.next();
      items.push({ dst: dst.text, rename: v.text });
    } else if (v.type === 'string') {
      c.next();
      checkTemplateAt(c, v, `label_format ${dst.text}`, v.value!, `invalid template for label '${dst.text}'`);
      items.push({ dst: dst.text, template: v.value! });
    } else {
      c.unexpected(v, 'IDENTIFIER (a label to rename) or STRING (a template)');
    }
    if (!c.atOp(',')) return items;
    c.next();
  }
}

function parseDropKeepItems(c: Cursor, stage: string): DropKeepItem[] {
  const items: DropKeepItem[] = [];
  for (;;) {
    const name = c.expectIdent(`IDENTIFIER (a label name to ${stage})`);
    if (isMatchOp(c.peek())) items.push({ name: name.text, matcher: parseMatcherRest(c, name.text) });
    else items.push({ name: name.text });
    if (!c.atOp(',')) return items;
    c.next();
  }
}

const CONVERSIONS = new Set(['duration', 'duration_seconds', 'bytes']);

function parseUnwrap(c: Cursor): Unwrap {
  const t = c.expectIdent('IDENTIFIER (the label to unwrap)');
  if (!c.atOp('(')) return { label: t.text, postFilters: [] };
  if (!CONVERSIONS.has(t.text)) {
    // Loki reads an unknown conversion as the label name and stumbles on the parenthesis.
    c.fail(t.pos, `syntax error: unexpected (: unknown unwrap conversion ${JSON.stringify(t.text)}: allowed are bytes(label), duration(label) and duration_seconds(label)`);
  }
  c.next();
  const label = c.expectIdent('IDENTIFIER (the label to unwrap)');
  c.expectOp(')');
  return { label: label.text, conversion: t.text as Unwrap['conversion'], postFilters: [] };
}

// ---------------------------------------------------------------- label filters

/** A label filter expression: `or` binds loosest, then `and` (also written `,` or by juxtaposition). */
export function parseLabelFilter(c: Cursor): LabelFilterExpr {
  let left = parseLabelFilterAnd(c);
  while (c.atIdent('or') && !isFilterOp(c.peek(1))) {
    const or = c.next();
    const right = parseLabelFilterAnd(c);
    left = c.stack({ kind: 'or', left, right }, or.pos, left, right);
  }
  return left;
}

function parseLabelFilterAnd(c: Cursor): LabelFilterExpr {
  let left = parseLabelFilterPrimary(c);
  for (;;) {
    const pos = c.peek().pos;
    if (c.atIdent('and') && !isFilterOp(c.peek(1))) c.next();
    else if (c.atOp(',')) c.next();
    else if (c.atOp('(')) {
      // Juxtaposition: `| a="b" (c="d" or e="f")` means and, as in Loki.
    } else if (c.atIdent() && !c.atIdent('or') && isFilterOp(c.peek(1))) {
      // Juxtaposition: `| a="b" c="d"`.
    } else return left;
    const right = parseLabelFilterPrimary(c);
    left = c.stack({ kind: 'and', left, right }, pos, left, right);
  }
}

function parseLabelFilterPrimary(c: Cursor): LabelFilterExpr {
  if (c.atOp('(')) {
    c.enter(c.next().pos);
    const inner = parseLabelFilter(c);
    c.expectOp(')', ') or and or or');
    c.leave();
    return inner;
  }
  const name = c.expectIdent('IDENTIFIER (a label name) or (');
  const opTok = c.peek();
  if (!isFilterOp(opTok)) c.unexpected(opTok, FILTER_OPS_EXPECTED);
  c.next();
  const op = opTok.text;
  if (op === '=~' || op === '!~') {
    if (c.atIdent('ip') && c.atOp('(', 1)) c.fail(c.peek().pos, `syntax error: unexpected ip, expecting STRING: ip() label filters only work with = and !=, not ${op} (like ${name.text} = ip("10.0.0.0/8"))`);
    const v = c.expectString();
    checkRegexAt(c, v, v.value, true);
    return { kind: 'string', matcher: { name: name.text, op, value: v.value } };
  }
  // As in Loki, strings and ip() take only = and != (`==` is for numbers, durations and sizes).
  const equality = op === '=' || op === '!=';
  const v = c.peek();
  if (v.type === 'string') {
    if (!equality) {
      c.fail(v.pos, `syntax error: unexpected STRING: label filter ${name.text} ${op} needs a number, duration or size; a string value only works with =, !=, =~ or !~ (like ${name.text}="…")`);
    }
    c.next();
    return { kind: 'string', matcher: { name: name.text, op: op === '!=' ? '!=' : '=', value: v.value! } };
  }
  if (v.type === 'ident' && v.text === 'ip' && c.atOp('(', 1)) {
    if (!equality) c.fail(v.pos, `syntax error: unexpected ip: ip() label filters only work with = and !=, not ${op} (like ${name.text} = ip("10.0.0.0/8") or ${name.text} != ip("10.0.0.0/8"))`);
    c.next();
    c.next();
    const s = c.expectString('STRING (an address, CIDR or range)');
    checkIPOperand(c, s);
    c.expectOp(')');
    return { kind: 'ip', name: name.text, op: op === '!=' ? '!=' : '=', pattern: s.value };
  }
  const cmp: CompareOp = op === '=' ? '==' : (op as CompareOp);
  return parseComparisonValue(c, name.text, cmp);
}

/** A signed number, duration or size on the right of a comparison. */
function parseComparisonValue(c: Cursor, name: string, op: CompareOp): LabelFilterExpr {
  let sign = 1;
  if (c.atOp('-') || c.atOp('+')) {
    if (c.next().text === '-') sign = -1;
  }
  const v = c.peek();
  if (v.type === 'number') {
    c.next();
    return { kind: 'number', name, op, value: sign * v.num! };
  }
  if (v.type === 'ident' && isNaNOrInf(v.text)) {
    c.next();
    return { kind: 'number', name, op, value: sign * nanOrInfValue(v.text) };
  }
  if (v.type === 'duration') {
    c.next();
    return { kind: 'duration', name, op, value: sign < 0 ? -v.dur! : v.dur! };
  }
  if (v.type === 'bytes') {
    c.next();
    return { kind: 'bytes', name, op, value: sign * v.num! };
  }
  c.unexpected(v, 'STRING, NUMBER, DURATION, BYTES or ip("…")');
}
