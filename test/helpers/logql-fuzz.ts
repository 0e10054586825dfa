/**
 * LogQL inputs for fuzzing the query API: valid queries built from the grammar's fragments (selectors, line filters,
 * parsers, label filters, formats, range and vector aggregations, binary operators), then mutated by deleting,
 * duplicating and swapping tokens, inserting random bytes and nesting deeply; plus random request parameters.
 */
import type { Prng } from './prng.js';

/** A pool of fragments: mostly ones the grammar accepts, sometimes ones it refuses. */
type Pool = readonly [good: readonly string[], bad: readonly string[]];

function some(r: Prng, pool: Pool): string {
  return r.chance(0.1) ? r.pick(pool[1]) : r.pick(pool[0]);
}

const NAMES: Pool = [['app', 'env', 'level', 'pod', 'a', 'b', 'status', 'dur', 'size', 'x_y', 'offset', 'json'], ['__error__', 'Über', '0bad']];
const VALUES: Pool = [['demo', 'fuzz', 'prod', '1', 'a b', 'é', '\\"q\\"', 'x\\\\y', '\\n', '\\u00e9'], ['', '\\x00', '\\q', '\\u12']];
const REGEXES: Pool = [
  ['.+', 'de.*', '(demo|fuzz)', '[a-z]+', '\\\\d+', '(?i)DEMO', '.*', 'a{2,3}', '\\\\pL+', '[[:alpha:]]+', '(?P<x>\\\\w+)', '\\\\Qa.b\\\\E', '(?s:.)', '\\\\p{Greek}', '\\\\b\\\\B', '[^\\\\x00-\\\\x{10FFFF}]'],
  ['(', ')', '[', 'a**', '\\\\', '(?=x)', '\\\\1', 'a{1001}', '(?P<1>a)', '[z-a]', '(?m)^a$', '\\\\z', 'x{2}{3}', '\\\\C', '(?<n>a)'],
];
const STRINGS: Pool = [['error', 'fuzz', 'level=info', 'é', '\\\\', '{', 'a b', 'info'], ['', '"', '\\x']];
/** Template texts (escaped when put inside a LogQL string). */
const TEMPLATES: Pool = [
  [
    '{{.app}}', '{{ upper .app }} {{ .level | lower }}', '{{if eq .a "1"}}one{{else if .b}}b{{else}}none{{end}}', '{{ printf "%s-%d" .app 3 }}',
    '{{ .app | trunc 3 }}', '{{ regexReplaceAll "a(.)" .app "${1}" }}', '{{ __line__ }}', '{{ __timestamp__ | date "2006-01-02" }}',
    '{{ len .app }}', '{{ default "x" .missing }}', '{{ add 1 2 | mul 3 }}', '{{ toJson . }}', '{{ (((.app))) }}', '{{ .a.b.c }}',
    '{{ repeat 3 "ab" }}', '{{ substr 1 2 .app }}', '{{ div 1 0 }}', '{{ fromJson __line__ }}', '{{ unixEpoch __timestamp__ }}', '{{ "\\x00" }}',
    '{{ `raw` }}', '{{ regexReplaceAll "(" .app "" }}', '{{ printf "%v %q %x" . .app 255 }}', '{{ alignLeft 5 .app }}', '{{ .app | replace "a" "b" }}',
  ],
  ['{{', '}}', '{{ end }}', '{{ range . }}', '{{ nosuch }}', '{{ printf }}', '{{ 1e400 }}', '{{ -9223372036854775809 }}', '{{ .app | }}', '{{if}}'],
];

function template(r: Prng): string {
  return some(r, TEMPLATES).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

const DURATIONS: Pool = [['1s', '1m', '5m', '1h', '30s', '1h30m', '500ms', '1d', '10m'], ['0s', '2562047h', '2562048h', '100000000h', '1y', '-1m', '1.5.5s', '1'.repeat(400) + '.5s', '9'.repeat(30) + 'ns']];
const NUMBERS: Pool = [['1', '0', '-1', '0.5', '1e3', '0x1p4', '42', '2', '1_000'], ['NaN', 'Inf', '-Inf', '1e308', '1e-320', '9223372036854775808', '1e999', '0x1F', '0b101', '1__0']];
const RANGE_OPS = ['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time'];
const UNWRAP_OPS = ['sum_over_time', 'avg_over_time', 'min_over_time', 'max_over_time', 'first_over_time', 'last_over_time', 'stddev_over_time', 'stdvar_over_time', 'rate_counter'];
const VECTOR_OPS = ['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'sort', 'sort_desc'];
const BIN_OPS = ['+', '-', '*', '/', '%', '^', '==', '!=', '>', '>=', '<', '<=', 'and', 'or', 'unless', '> bool', '== bool'];

function matcher(r: Prng): string {
  const name = some(r, NAMES);
  const op = r.pick(['=', '!=', '=~', '!~']);
  const v = op.endsWith('~') ? some(r, REGEXES) : some(r, VALUES);
  return `${name}${op}"${v}"`;
}

export function selector(r: Prng): string {
  const ms = [r.chance(0.8) ? `app="${r.pick(['demo', 'fuzz'])}"` : matcher(r)];
  for (let n = r.int(3); n > 0; n--) ms.push(matcher(r));
  return `{${ms.join(', ')}}`;
}

function labelFilter(r: Prng, depth = 0): string {
  const name = some(r, NAMES);
  const leaf = (): string => {
    switch (r.int(7)) {
      case 0:
        return `${name}${r.pick(['=', '!=', '=~', '!~'])}"${some(r, r.chance(0.5) ? REGEXES : VALUES)}"`;
      case 1:
        return `${name} ${r.pick(['>', '>=', '<', '<=', '==', '!='])} ${some(r, NUMBERS)}`;
      case 2:
        return `${name} > ${some(r, DURATIONS)}`;
      case 3:
        return `${name} <= ${r.pick(['10KB', '1MiB', '5B', '1EB'])}`;
      case 4:
        return `${name} = ip("${r.pick(['10.0.0.0/8', '::1', '1.2.3.4-1.2.3.9', 'x', '300.1.1.1'])}")`;
      case 5:
        return '__error__=""';
      default:
        return `${name}="${some(r, VALUES)}"`;
    }
  };
  if (depth < 2 && r.chance(0.3)) return `(${labelFilter(r, depth + 1)} ${r.pick(['and', 'or', ','])} ${labelFilter(r, depth + 1)})`;
  return leaf();
}

function stage(r: Prng): string {
  switch (r.int(14)) {
    case 0: {
      if (r.chance(0.6)) return `|= "${some(r, STRINGS)}"`;
      const ip = r.pick(['10.0.0.0/8', '::1', '1.2.3.4-1.2.3.9', 'x', '300.1.1.1', '']);
      return r.pick([`|= ip("${ip}")`, `!= "${some(r, STRINGS)}" or ip("${ip}")`, `|~ ip("${ip}")`, `|> "<_> ${some(r, STRINGS)} <_>"`, `!> "<_>" or "a<_>"`, '|> "<x>"', '!> "<_><_>"', '|> ""']);
    }
    case 1:
      return `!= "${some(r, STRINGS)}"`;
    case 2:
      return `|~ "${some(r, REGEXES)}"`;
    case 3:
      return `!~ "${some(r, REGEXES)}" or "${some(r, REGEXES)}"`;
    case 4:
      return r.pick(['| json', '| json a="b.c", x="arr[0]"', '| json x="a"', '| json x="[[["', '| json x="a..b"', '| json x="[\\"k\\"]"', '| logfmt', '| logfmt --strict --keep-empty', '| unpack', '| decolorize']);
    case 5:
      return `| regexp "${r.chance(0.9) ? r.pick(['(?P<a>\\\\w+)', '(?P<a>.)(?P<b>.)']) : r.pick(['(?P<a>', 'nogroup', '(?P<a>a)|(?P<a>b)'])}"`;
    case 6:
      return `| pattern "${r.chance(0.9) ? r.pick(['<a> <b>', '<_> <x>', '<_>=<v> <_>']) : r.pick(['<a><b>', '', '<>'])}"`;
    case 7:
    case 8:
      return `| ${labelFilter(r)}`;
    case 9:
      return `| line_format "${template(r)}"`;
    case 10:
      return `| label_format ${r.pick(['x', 'a', 'app'])}="${template(r)}"${r.chance(0.3) ? ', y=app' : ''}`;
    case 11:
      return `| ${r.pick(['drop', 'keep'])} ${r.pick(['a', 'app, b', 'a="1"', 'level=~"i.*"'])}`;
    case 12:
      return '| __error__=""';
    default:
      return `|= "${some(r, STRINGS)}" or "${some(r, STRINGS)}"`;
  }
}

export function logQuery(r: Prng): string {
  let q = selector(r);
  for (let n = r.int(5); n > 0; n--) q += ' ' + stage(r);
  return q;
}

function rangeAgg(r: Prng): string {
  const range = `[${some(r, DURATIONS)}]${r.chance(0.2) ? ` offset ${some(r, DURATIONS)}` : ''}`;
  if (r.chance(0.6)) return `${r.pick(RANGE_OPS)}(${logQuery(r)} ${range})`;
  const unwrap = `| unwrap ${r.pick(['a', 'dur', 'size', 'duration(dur)', 'bytes(size)', 'duration_seconds(dur)', 'nope(a)'])}`;
  const pre = r.chance(0.3) ? `${r.pick(['0.99', '0.5', '2', '-1'])}, ` : '';
  const op = pre ? 'quantile_over_time' : r.pick(UNWRAP_OPS);
  const by = r.chance(0.3) ? ` by (${r.pick(['a', 'app', 'a, b'])})` : '';
  return `${op}(${pre}${logQuery(r)} | logfmt ${unwrap}${r.chance(0.3) ? ' | __error__=""' : ''} ${range})${by}`;
}

export function metricQuery(r: Prng, depth = 0): string {
  const k = depth > 2 ? r.int(3) : r.int(8);
  switch (k) {
    case 0:
    case 1:
      return rangeAgg(r);
    case 2:
      return r.chance(0.5) ? some(r, NUMBERS) : `vector(${some(r, NUMBERS)})`;
    case 3:
    case 4: {
      const op = r.pick(VECTOR_OPS);
      const by = r.chance(0.5) ? ` ${r.pick(['by', 'without'])} (${r.pick(['app', 'a', 'a, level', ''])})` : '';
      return `${op}${by} (${metricQuery(r, depth + 1)})`;
    }
    case 5:
      return `${r.pick(['topk', 'bottomk', 'approx_topk'])}(${r.chance(0.9) ? r.pick(['1', '3']) : r.pick(['0', '-1', '1.5'])}, ${metricQuery(r, depth + 1)})`;
    case 6: {
      const op = r.pick(BIN_OPS);
      const matching = r.chance(0.2) ? ` ${r.pick(['on', 'ignoring'])}(app)${r.chance(0.5) ? ` ${r.pick(['group_left', 'group_right'])}(a)` : ''}` : '';
      return `${metricQuery(r, depth + 1)} ${op}${matching} ${metricQuery(r, depth + 1)}`;
    }
    default:
      return `label_replace(${metricQuery(r, depth + 1)}, "${r.pick(['dst', '0bad', 'x'])}", "$1", "app", "${some(r, REGEXES)}")`;
  }
}

/** A query as the grammar allows it (it may still be refused for semantic reasons, which is a fine 400). */
export function validQuery(r: Prng): string {
  return r.chance(0.4) ? logQuery(r) : metricQuery(r);
}

const TOKEN_RE = /"(?:[^"\\]|\\.)*"|`[^`]*`|[A-Za-z_][A-Za-z0-9_]*|\d[\w.]*|\|[=~>]|[!=]~|[!=<>]=|\s+|[\s\S]/g;
const INSERTS = ['(', ')', '{', '}', '[', ']', '|', '"', '`', ',', '=~', 'by', 'offset', 'unwrap', 'json', 'or', 'and', '[5m]', '1e999', '-', '\\', '#', 'bool', 'on()', 'group_left', '\u0000', '\ud800', '😀', '\r\n'];

function randomText(r: Prng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r.int(10);
    if (k < 6) s += String.fromCharCode(32 + r.int(95));
    else if (k < 8) s += r.pick(INSERTS);
    else if (k < 9) s += String.fromCharCode(r.int(32));
    else s += String.fromCharCode(r.int(0x10000));
  }
  return s;
}

/** How deep nested inputs go: past every limit, and far past. */
const DEPTHS = [50, 257, 1001, 2000, 10_000];

/** Wraps a piece of the query so it nests `n` deep, the way each nesting limit is reached. */
function deepen(r: Prng, q: string): string {
  const n = r.pick(DEPTHS);
  switch (r.int(9)) {
    case 0:
      return '('.repeat(n) + q + ')'.repeat(n);
    case 1:
      return `${selector(r)} | a="1"` + ' and a="1"'.repeat(n);
    case 2:
      return `${selector(r)} | ` + '('.repeat(n) + 'a="1"' + ')'.repeat(n);
    case 3:
      return `${selector(r)} |~ "${'('.repeat(n)}a${')'.repeat(n)}"`;
    case 4:
      return `{app=~"${'(?:'.repeat(n)}demo${')'.repeat(n)}"}`;
    case 5:
      return `${selector(r)} | line_format "${'{{if true}}'.repeat(n)}x${'{{end}}'.repeat(n)}"`;
    case 6:
      return `${selector(r)} | label_format x="{{${'(lower '.repeat(n)}.app${')'.repeat(n)}}}"`;
    case 7:
      return `count_over_time(${selector(r)}[1m])` + ' + 1'.repeat(n);
    default:
      return 'sum('.repeat(n) + `rate(${selector(r)}[1m])` + ')'.repeat(n);
  }
}

/** One mutation of `q`: token edits, random bytes, truncation, or deep nesting. */
export function mutate(r: Prng, q: string): string {
  const toks = q.match(TOKEN_RE) ?? [];
  const at = () => r.int(toks.length + 1);
  switch (r.int(9)) {
    case 0:
      toks.splice(at(), 1);
      break;
    case 1: {
      const i = at();
      if (toks[i] !== undefined) toks.splice(i, 0, toks[i]!.repeat(1 + r.int(3)));
      break;
    }
    case 2: {
      const i = at();
      const j = at();
      if (toks[i] !== undefined && toks[j] !== undefined) [toks[i], toks[j]] = [toks[j]!, toks[i]!];
      break;
    }
    case 3:
      toks.splice(at(), 0, r.pick(INSERTS));
      break;
    case 4:
      toks.splice(at(), 0, randomText(r, 1 + r.int(8)));
      break;
    case 5:
      return q.slice(0, r.int(q.length + 1));
    case 6:
      return deepen(r, q);
    case 7: {
      // Replace a literal with another of a different kind (a duration where a string was, …).
      const i = at();
      if (toks[i] !== undefined) toks[i] = r.pick([...DURATIONS[0], ...DURATIONS[1], ...NUMBERS[0], ...NUMBERS[1], '"x"', '`raw`', 'ident']);
      break;
    }
    default:
      toks.splice(at(), 0, toks[r.int(Math.max(toks.length, 1))] ?? '');
  }
  return toks.join('');
}

/** A query for the fuzzer: valid, mutated one to three times, or noise. */
export function fuzzQuery(r: Prng): string {
  const k = r.int(10);
  if (k < 4) return validQuery(r);
  if (k < 9) {
    let q = validQuery(r);
    for (let n = 1 + r.int(3); n > 0; n--) q = mutate(r, q);
    return q;
  }
  return randomText(r, r.int(60));
}

const TIMES = [
  undefined, 'now', '0', '-1', '1e30', '-1e30', '1700000000', '1700000000.5', '-99999999999999999', '99999999999999999999', '-9223372036854775809',
  '9223372036854775807', '-9223372036854775808', '9'.repeat(400), '9'.repeat(400) + '.5', '2262-04-12T00:00:00Z', '1677-09-21T00:00:00Z', '9999-12-31T23:59:59Z', '2024-02-30T00:00:00Z', '2024-01-01T00:00:00+25:00',
  'NaN', 'Inf', '', ' ', '1.', '.5', '0x10', '1_000', '١٢٣',
];
const STEPS = [undefined, '1', '0', '-1', '1e-9', '0.000000001', '1ms', '1s', '60', '1h', '100000000h', '2562047h', '1e300', 'NaN', 'abc', '1m-1s', '9'.repeat(400), '1'.repeat(400) + '.5s'];
const SINCES = [undefined, '1h', '0s', '-1h', '100000000h', '2562047h', '1y', '99999999999s', 'x'];
const LIMITS = [undefined, '0', '1', '100', '-1', '1e3', '99999999999999999999', 'x', '5000'];

/** Random values for the time and paging parameters every query endpoint takes. */
export function fuzzParams(r: Prng): Record<string, string> {
  const p: Record<string, string> = {};
  if (r.chance(0.6)) return p;
  const set = (k: string, vals: (string | undefined)[], chance: number) => {
    if (!r.chance(chance)) return;
    let v = r.pick(vals);
    if (v === 'now') v = String(Date.now() * 1e6);
    if (v !== undefined) p[k] = v;
  };
  set('start', TIMES, 0.3);
  set('end', TIMES, 0.3);
  set('time', TIMES, 0.3);
  set('step', STEPS, 0.3);
  set('interval', STEPS, 0.1);
  set('since', SINCES, 0.2);
  set('limit', LIMITS, 0.3);
  set('direction', ['forward', 'backward', 'FORWARD', 'sideways', ''], 0.2);
  return p;
}
