/**
 * Parse-time validation of the regexes in a query (selectors, `|~`, `=~` label filters, `regexp` stages,
 * label_replace). LogQL regexes are RE2; the engine compiles them with its own RE2 translation. Here we only need
 * to reject what RE2 would reject and know whether a matcher accepts the empty string, so we rewrite the RE2-only
 * syntax (`(?P<n>`, inline flags, `\z`, `\Q…\E`) into something JavaScript's RegExp parses, and refuse the
 * Perl features RE2 does not have (look-around, backreferences).
 */

// The same nesting limit as the engine's parser, so a regex that passes here also compiles there.
import { MAX_REGEX_NESTING, REGEX_TOO_DEEP } from '../regex-syntax.js';

export interface CheckedRegex {
  /** JavaScript source equivalent enough to test against the empty string. */
  source: string;
  flags: string;
  /** Names of the named capture groups, in order. */
  groupNames: string[];
}

export class RegexCheckError extends Error {}

function escapeLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Throws RegexCheckError with a readable reason when RE2 would not accept `pattern`. */
export function checkRegex(pattern: string): CheckedRegex {
  let out = '';
  let flags = '';
  const groupNames: string[] = [];
  let inClass = false;
  let depth = 0;
  const n = pattern.length;
  let i = 0;
  while (i < n) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) throw new RegexCheckError('trailing backslash at end of expression');
      if (!inClass && e >= '1' && e <= '9') throw new RegexCheckError(`backreferences like \\${e} are not supported (RE2 syntax)`);
      if (e === 'Q') {
        const close = pattern.indexOf('\\E', i + 2);
        const lit = pattern.slice(i + 2, close === -1 ? n : close);
        out += inClass ? lit.replace(/[\\\]^-]/g, '\\$&') : escapeLiteral(lit);
        i = close === -1 ? n : close + 2;
        continue;
      }
      if (!inClass && e === 'z') out += '$';
      else if (!inClass && e === 'A') out += '^';
      else out += ch + e;
      i += 2;
      continue;
    }
    if (inClass) {
      // A POSIX class like [[:alpha:]] is one unit; its inner brackets do not close the outer class.
      if (ch === '[' && pattern[i + 1] === ':') {
        const close = pattern.indexOf(':]', i + 2);
        if (close !== -1) {
          out += 'a';
          i = close + 2;
          continue;
        }
      }
      if (ch === ']') inClass = false;
      out += ch;
      i++;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      i++;
      // A leading ] (after an optional ^) is a literal in RE2.
      if (pattern[i] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '(') {
      if (++depth > MAX_REGEX_NESTING) throw new RegexCheckError(REGEX_TOO_DEEP);
    } else if (ch === ')') depth--;
    if (ch === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!') || rest === '<=' || rest === '<!') {
        throw new RegexCheckError(`look-around (?${rest.startsWith('<') ? rest : rest[0]}…) is not supported (RE2 syntax)`);
      }
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(pattern.slice(i, i + 200));
      if (named) {
        groupNames.push(named[1]!);
        out += `(?<${named[1]}>`;
        i += named[0].length;
        continue;
      }
      if (pattern[i + 2] === 'P' || pattern[i + 2] === '<') throw new RegexCheckError('invalid named capture group: use (?P<name>…) with name matching [A-Za-z_][A-Za-z0-9_]*');
      const fl = /^\(\?([imsU-]*)([:)])/.exec(pattern.slice(i, i + 16));
      if (fl) {
        if (fl[1] === '' && fl[2] === ')') throw new RegexCheckError('missing flags in (?)');
        for (const f of fl[1]!.split('-')[0]!) if ((f === 'i' || f === 'm' || f === 's') && !flags.includes(f)) flags += f;
        out += fl[2] === ':' ? '(?:' : '';
        if (fl[2] === ')') depth--; // (?i) only sets flags: it opens no group
        i += fl[0].length;
        continue;
      }
      throw new RegexCheckError(`invalid or unsupported group syntax ${JSON.stringify(pattern.slice(i, i + 4))}`);
    }
    out += ch;
    i++;
  }
  try {
    new RegExp(out, flags);
  } catch (e) {
    const msg = (e as Error).message;
    const reason = msg.slice(msg.lastIndexOf(': ') + 2);
    throw new RegexCheckError(reason.charAt(0).toLowerCase() + reason.slice(1));
  }
  return { source: out, flags, groupNames };
}

/** Whether the fully anchored regex accepts "" (used for Loki's "at least one non-empty matcher" rule). */
export function regexMatchesEmpty(checked: CheckedRegex): boolean {
  return new RegExp(`^(?:${checked.source})$`, checked.flags).test('');
}
