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
  const out: Labels = Object.create(null) as Labels;
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
    const valueStart = i;
    let escaped = false;
    for (;;) {
      if (i >= end) throw new LabelParseError(`unterminated value of label ${JSON.stringify(name)} in ${JSON.stringify(truncate(text))}`);
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      i++;
    }
    const body = s.slice(valueStart, i);
    i++;
    const value = escaped ? unescapeValue(body) : wellFormed(body);
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

/**
 * `{a="1", b="2"}` with names sorted: the one spelling used for identity (the fingerprint hashes it), the
 * WAL and responses. Values are JSON string literals, so every control character has an escape that
 * `parseLabels` reads back; `parseLabels(canonicalLabels(l))` equals `l` for every well-formed `l`, which
 * is what keeps a stream's identity across WAL replay and checkpoints.
 */
export function canonicalLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return '{' + names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ') + '}';
}

/** Sorted copy on a null-prototype object, so a label named `__proto__` is an ordinary label. */
export function sortedLabels(labels: Labels): Labels {
  const out: Labels = Object.create(null) as Labels;
  for (const n of Object.keys(labels).sort()) out[n] = labels[n]!;
  return out;
}

/** Labels stored as JSON (the index, the internal API), on a null-prototype object like every other label set. */
export function labelsFromJson(text: string): Labels {
  return Object.assign(Object.create(null) as Labels, JSON.parse(text) as Labels);
}

/** 64-bit identity of a canonical label string, as 16 hex digits (stable across processes and versions). */
export function fingerprint(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39, '/': 47 };

/**
 * The body of a quoted label value with its escapes decoded: JSON's (what canonicalLabels writes) and Go's
 * (what Loki's protobuf clients may write: \a \v \xHH \ooo \UHHHHHHHH). `\x` and octal escapes are bytes,
 * decoded as UTF-8 at the end like Go; a lone surrogate (`\ud800`) or bytes that are not UTF-8 become
 * U+FFFD, the one spelling storage can keep. An unknown escape keeps its backslash, as before.
 */
function unescapeValue(body: string): string {
  const bytes: number[] = [];
  const pushString = (str: string) => {
    for (const b of Buffer.from(str, 'utf8')) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      if (cp < 0x80) bytes.push(cp);
      else pushString(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
      continue;
    }
    const digits = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const hex = digits > 0 ? body.slice(i + 2, i + 2 + digits) : '';
    if (digits > 0 && hex.length === digits && /^[0-9a-fA-F]+$/.test(hex)) {
      let v = parseInt(hex, 16);
      i += 2 + digits;
      if (e === 'x') {
        bytes.push(v);
        continue;
      }
      // A surrogate pair written as two \u escapes (JSON style) is one code point.
      if (v >= 0xd800 && v <= 0xdbff && body[i] === '\\' && body[i + 1] === 'u') {
        const lo = parseInt(body.slice(i + 2, i + 6), 16);
        if (lo >= 0xdc00 && lo <= 0xdfff && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
          v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
          i += 6;
        }
      }
      pushString(v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ? '\ufffd' : String.fromCodePoint(v));
      continue;
    }
    if (/^[0-7]{3}$/.test(body.slice(i + 1, i + 4)) && parseInt(body.slice(i + 1, i + 4), 8) <= 255) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 4;
      continue;
    }
    bytes.push(92);
    i++;
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Strings as storage keeps them: UTF-8 cannot hold a lone surrogate, so it becomes U+FFFD at ingest —
 * before the stream's identity is worked out — and what is acknowledged is exactly what is read back.
 */
export function wellFormed(s: string): string {
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE_G, '\ufffd') : s;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_G = new RegExp(LONE_SURROGATE.source, 'g');

function truncate(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
