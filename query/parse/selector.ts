/** Stream selectors `{app="api", env=~"prod|staging"}` and the label matchers they, and some stages, share. */
import type { MatchOp, Matcher } from '../ast.js';
import type { Token } from '../lexer.js';
import { quoteShort } from '../parse-error.js';
import { compileRegex, RegexSyntaxError } from '../regex.js';
import type { Cursor } from './cursor.js';
import { checkRegex, RegexCheckError, regexMatchesEmpty, type CheckedRegex } from './regex-check.js';

export const MATCH_OPS_EXPECTED = '= or != or =~ or !~';

export const EMPTY_COMPATIBLE_MESSAGE =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will';

export function isMatchOp(t: Token): boolean {
  return t.type === 'op' && (t.text === '=' || t.text === '!=' || t.text === '=~' || t.text === '!~');
}

/**
 * Validates a regex written in the query, failing at the string token that holds it. Besides the RE2 checks it
 * translates the regex exactly as the engine will (`anchored` for selectors, label matchers and label_replace), so
 * what the engine would refuse is refused here, as a parse error, instead of failing the running query.
 */
export function checkRegexAt(c: Cursor, tok: Token, pattern: string, anchored: boolean): CheckedRegex {
  try {
    const checked = checkRegex(pattern);
    compileRegex(pattern, { anchored });
    return checked;
  } catch (e) {
    if (e instanceof RegexCheckError) c.fail(tok.pos, `invalid regex ${quoteShort(pattern)}: ${e.message}`);
    // The engine's own messages already name the regex.
    if (e instanceof RegexSyntaxError) c.fail(tok.pos, e.message);
    if (e instanceof SyntaxError) c.fail(tok.pos, `invalid regex ${quoteShort(pattern)}: ${e.message}`);
    throw e;
  }
}

/** `op "value"` after a label name already consumed; validates regexes. */
export function parseMatcherRest(c: Cursor, name: string): Matcher {
  return parseCheckedMatcher(c, name).matcher;
}

function parseCheckedMatcher(c: Cursor, name: string): { matcher: Matcher; regex?: CheckedRegex } {
  const opTok = c.peek();
  if (!isMatchOp(opTok)) c.unexpected(opTok, MATCH_OPS_EXPECTED);
  c.next();
  const valTok = c.expectString();
  const op = opTok.text as MatchOp;
  const matcher = { name, op, value: valTok.value };
  if (op === '=~' || op === '!~') return { matcher, regex: checkRegexAt(c, valTok, valTok.value, true) };
  return { matcher };
}

function matchesEmpty(m: Matcher, regex: CheckedRegex | undefined): boolean {
  switch (m.op) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return regexMatchesEmpty(regex!);
    case '!~':
      return !regexMatchesEmpty(regex!);
  }
}

/**
 * `{…}`: at least one matcher, and at least one that rejects the empty value, as Loki requires of
 * queries. `anyStreams` lifts that rule for the series API, where `{}` selects every stream, as in Loki.
 */
export function parseSelectorMatchers(c: Cursor, anyStreams = false): Matcher[] {
  const open = c.expectOp('{', '{ to start a stream selector like {app="x"}');
  const matchers: Matcher[] = [];
  let selective = false;
  while (!c.atOp('}')) {
    const nameTok = c.peek();
    if (nameTok.type !== 'ident') c.unexpected(nameTok, matchers.length === 0 ? 'IDENTIFIER or }' : 'IDENTIFIER');
    c.next();
    const { matcher, regex } = parseCheckedMatcher(c, nameTok.text);
    matchers.push(matcher);
    if (!selective && !matchesEmpty(matcher, regex)) selective = true;
    if (c.atOp(',')) {
      c.next();
      continue;
    }
    if (!c.atOp('}')) c.unexpected(c.peek(), ', or }');
  }
  c.next();
  if (!selective && !anyStreams) c.fail(open.pos, EMPTY_COMPATIBLE_MESSAGE);
  return matchers;
}
