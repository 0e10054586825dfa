import { createHash } from 'node:crypto';

/** A stream's label set: name → value. Canonical form sorts names. */
export type Labels = Record<string, string>;

const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidLabelName(name: string): boolean {
  return NAME_RE.test(name);
}

export class LabelParseError extends Error {}

/** Prometheus-style `{a="b", c="d"}` as Loki's protobuf push carries it. */
export function parseLabels(text: string): Labels {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) {
    throw new LabelParseError(`labels must be wrapped in braces like {app="x"}, got ${JSON.stringify(truncate(text))}`);
  }
  const out: Labels = {};
  let i = 1;
  const end = s.length - 1;
  const skipSpace = () => {
    while (i < end && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  skipSpace();
  while (i < end) {
    const nameStart = i;
    while (i < end && /[a-zA-Z0-9_]/.test(s[i]!)) i++;
    const name = s.slice(nameStart, i);
    if (!isValidLabelName(name)) {
      throw new LabelParseError(`invalid label name at offset ${nameStart} in ${JSON.stringify(truncate(text))}: names match [a-zA-Z_][a-zA-Z0-9_]*`);
    }
    skipSpace();
    if (s[i] !== '=') throw new LabelParseError(`expected '=' after label name ${JSON.stringify(name)} in ${JSON.stringify(truncate(text))}`);
    i++;
    skipSpace();
    if (s[i] !== '"') throw new LabelParseError(`expected '"' to open the value of label ${JSON.stringify(name)} in ${JSON.stringify(truncate(text))}`);
    i++;
    let value = '';
    for (;;) {
      if (i >= end) throw new LabelParseError(`unterminated value of label ${JSON.stringify(name)} in ${JSON.stringify(truncate(text))}`);
      const c = s[i]!;
      if (c === '"') { i++; break; }
      if (c === '\\') {
        const n = s[i + 1];
        if (n === 'n') value += '\n';
        else if (n === 't') value += '\t';
        else if (n === '"' || n === '\\') value += n;
        else value += '\\' + (n ?? '');
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    if (Object.prototype.hasOwnProperty.call(out, name)) {
      throw new LabelParseError(`duplicate label name ${JSON.stringify(name)} in ${JSON.stringify(truncate(text))}`);
    }
    out[name] = value;
    skipSpace();
    if (s[i] === ',') { i++; skipSpace(); continue; }
    if (i < end) throw new LabelParseError(`expected ',' or '}' after label ${JSON.stringify(name)} in ${JSON.stringify(truncate(text))}`);
  }
  return out;
}

/** `{a="1", b="2"}` with names sorted: the one spelling used for identity, storage and responses. */
export function canonicalLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return '{' + names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ') + '}';
}

export function sortedLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const n of Object.keys(labels).sort()) out[n] = labels[n]!;
  return out;
}

/** 64-bit identity of a canonical label string, as 16 hex digits (stable across processes and versions). */
export function fingerprint(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

function truncate(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
