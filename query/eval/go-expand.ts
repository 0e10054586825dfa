/**
 * Go's regexp.Expand for a JS match: `$1`, `${1}`, `$name`, `${name}` and `$$`. A `$name` takes the
 * longest run of letters, digits and underscores, so `$1x` means the group named "1x" (which does not
 * exist and expands to nothing). A name that is a number with a leading zero is not a number. A group
 * that did not participate expands to nothing; a malformed `$` is copied as is.
 */
export function expandTemplate(template: string, match: RegExpExecArray, groupNames: readonly (string | undefined)[] = []): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, d);
    i = d + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    if (template[i] === '{') {
      const close = template.indexOf('}', i + 1);
      const inner = close < 0 ? '' : template.slice(i + 1, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(inner)) {
        out += '$';
        continue;
      }
      name = inner;
      i = close + 1;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i));
      if (!m) {
        out += '$';
        continue;
      }
      name = m[0];
      i += name.length;
    }
    out += groupValue(name, match, groupNames);
  }
  return out;
}

/** `groupNames[i]` is the RE2 name of capture group i, when the regex was translated from RE2. */
function groupValue(name: string, match: RegExpExecArray, groupNames: readonly (string | undefined)[]): string {
  const isNumber = /^\d+$/.test(name) && !(name.length > 1 && name[0] === '0') && name.length < 9;
  if (isNumber) return match[Number(name)] ?? '';
  const i = groupNames.indexOf(name);
  if (i > 0) return match[i] ?? '';
  return match.groups?.[name] ?? '';
}
