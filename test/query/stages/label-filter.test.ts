import { describe, expect, it } from 'vitest';
import type { LabelFilterExpr, PipelineStage } from '../../../query/ast.js';
import { run } from './run.js';

const lf = (expr: LabelFilterExpr): PipelineStage => ({ kind: 'label_filter', expr });
const logfmt: PipelineStage = { kind: 'logfmt', strict: false, keepEmpty: false, params: [] };
const num = (name: string, op: '==' | '!=' | '>' | '>=' | '<' | '<=', value: number): LabelFilterExpr => ({ kind: 'number', name, op, value });
const str = (name: string, op: '=' | '!=' | '=~' | '!~', value: string): LabelFilterExpr => ({ kind: 'string', matcher: { name, op, value } });

const LINES = [
  'status=200 took=15ms size=1KB level=info addr=10.0.0.5',
  'status=503 took=1m30s size=20MB level=error addr=192.168.1.9',
  'status=abc took=soon size=big level=warn addr=::1',
  'level=debug',
];
const idx = (stages: PipelineStage[]) => run(stages, LINES).map((o) => o.index);

describe('label filters', () => {
  it('compares numbers', () => {
    expect(idx([logfmt, lf(num('status', '>=', 500))])).toEqual([1, 2]);
    expect(idx([logfmt, lf(num('status', '==', 200))])).toEqual([0, 2]);
    expect(idx([logfmt, lf(num('status', '!=', 200))])).toEqual([1, 2]);
    expect(idx([logfmt, lf(num('status', '<', 300))])).toEqual([0, 2]);
  });

  it('keeps an unparseable number with LabelFilterErr, and drops entries missing the label', () => {
    const out = run([logfmt, lf(num('status', '>=', 500))], LINES);
    const bad = out.find((o) => o.index === 2)!;
    expect(bad.labels.__error__).toBe('LabelFilterErr');
    expect(bad.labels.__error_details__).toMatch(/parsing "abc": invalid syntax/);
    expect(out.some((o) => o.index === 3)).toBe(false);
  });

  it('lets __error__="" drop the entries that failed', () => {
    expect(idx([logfmt, lf(num('status', '>=', 500)), lf(str('__error__', '=', ''))])).toEqual([1]);
  });

  it('still compares entries that already carry an error, and drops them when the label is missing (Loki 3.x)', () => {
    const json: PipelineStage = { kind: 'json', params: [] };
    expect(run([json, lf(num('status', '>', 1000))], ['not json'])).toEqual([]);
    const lines = ['{"status":"oops" broken', 'status=1500 {'];
    // logfmt reads `status` from the second line even though the json parser failed on it.
    expect(run([json, logfmt, lf(num('status', '>', 1000))], lines).map((o) => [o.index, o.labels.__error__])).toEqual([[1, 'JSONParserErr']]);
    expect(run([json, logfmt, lf(num('status', '<', 1000))], lines)).toEqual([]);
  });

  it('compares Go durations', () => {
    expect(idx([logfmt, lf({ kind: 'duration', name: 'took', op: '>', value: 1_000_000_000n })])).toEqual([1, 2]);
    expect(run([logfmt, lf({ kind: 'duration', name: 'took', op: '<', value: 20_000_000n })], LINES).map((o) => [o.index, o.labels.__error__])).toEqual([
      [0, undefined],
      [2, 'LabelFilterErr'],
    ]);
  });

  it('compares byte sizes', () => {
    expect(idx([logfmt, lf({ kind: 'bytes', name: 'size', op: '>', value: 10_000_000 }), lf(str('__error__', '=', ''))])).toEqual([1]);
    expect(idx([logfmt, lf({ kind: 'bytes', name: 'size', op: '==', value: 1000 })])).toEqual([0, 2]);
  });

  it('matches strings with anchored regexes; a missing label is ""', () => {
    expect(idx([logfmt, lf(str('level', '=~', 'error|warn'))])).toEqual([1, 2]);
    expect(idx([logfmt, lf(str('level', '=~', 'err|warn'))])).toEqual([2]);
    expect(idx([logfmt, lf(str('level', '=~', 'err'))])).toEqual([]);
    expect(idx([logfmt, lf(str('level', '!=', 'info'))])).toEqual([1, 2, 3]);
    expect(idx([logfmt, lf(str('status', '=', ''))])).toEqual([3]);
    expect(idx([logfmt, lf(str('app', '=', 'api'))])).toEqual([0, 1, 2, 3]);
  });

  it('combines with and / or', () => {
    expect(idx([logfmt, lf({ kind: 'or', left: str('level', '=', 'debug'), right: { kind: 'and', left: num('status', '>=', 500), right: str('__error__', '=', '') } })])).toEqual([1, 3]);
    expect(idx([logfmt, lf({ kind: 'and', left: str('level', '=~', '.+'), right: str('level', '!=', 'warn') })])).toEqual([0, 1, 3]);
  });

  it('matches IP addresses against ranges and CIDRs', () => {
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '=', pattern: '10.0.0.0/8' })])).toEqual([0]);
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '=', pattern: '192.168.1.1-192.168.1.10' })])).toEqual([1]);
    // As in Loki, an address is only found with at least five characters from its start: `::1` alone is none.
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '=', pattern: '::/64' })])).toEqual([]);
    // != keeps values holding no address in the range, but not entries without the label (line 3).
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '!=', pattern: '10.0.0.5' })])).toEqual([1, 2]);
    expect(() => run([lf({ kind: 'ip', name: 'a', op: '=', pattern: '300.1.1.1' })], [''])).toThrow(/ip: invalid pattern: "300.1.1.1"/);
  });
});

describe('label filter conversions and errors (Loki 3.x)', () => {
  const dur = (name: string, op: '==' | '!=' | '>' | '>=' | '<' | '<=', ns: bigint): LabelFilterExpr => ({ kind: 'duration', name, op, value: ns });
  const bytes = (name: string, op: '==' | '!=' | '>' | '>=' | '<' | '<=', n: number): LabelFilterExpr => ({ kind: 'bytes', name, op, value: n });
  const and = (left: LabelFilterExpr, right: LabelFilterExpr): LabelFilterExpr => ({ kind: 'and', left, right });
  const or = (left: LabelFilterExpr, right: LabelFilterExpr): LabelFilterExpr => ({ kind: 'or', left, right });
  const S = 1_000_000_000n;
  /** [index, __error__, __error_details__] of every entry the stages keep. */
  const outcome = (stages: PipelineStage[], lines: string[]) => run(stages, lines).map((o) => [o.index, o.labels.__error__, o.labels.__error_details__]);

  it('drops entries without the label, silently, for every conversion', () => {
    for (const f of [num('n', '>', 0), num('n', '!=', 5), dur('n', '<', S), dur('n', '!=', S), bytes('n', '>=', 0), bytes('n', '!=', 1)]) {
      expect(outcome([logfmt, lf(f)], ['other=1', 'x=abc'])).toEqual([]);
    }
  });

  it('keeps a value that does not convert, with Go\'s message as __error_details__', () => {
    expect(outcome([logfmt, lf(dur('took', '>', S))], ['took=5x', 'took=5', 'took=soon', 'took=1d', 'took=2s', 'took=1s'])).toEqual([
      [0, 'LabelFilterErr', 'time: unknown unit "x" in duration "5x"'],
      [1, 'LabelFilterErr', 'time: missing unit in duration "5"'],
      [2, 'LabelFilterErr', 'time: invalid duration "soon"'],
      [3, 'LabelFilterErr', 'time: unknown unit "d" in duration "1d"'],
      [4, undefined, undefined],
    ]);
    expect(outcome([logfmt, lf(num('status', '>=', 500))], ['status=abc', 'status=0x1F', 'status=1e999', 'status=0x1p9'])).toEqual([
      [0, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax'],
      [1, 'LabelFilterErr', 'strconv.ParseFloat: parsing "0x1F": invalid syntax'],
      [2, 'LabelFilterErr', 'strconv.ParseFloat: parsing "1e999": value out of range'],
      [3, undefined, undefined],
    ]);
    expect(outcome([logfmt, lf(bytes('size', '>', 1000))], ['size=big', 'size="3 parsecs"', 'size=1.5.3MB', 'size="2 KiB"', 'size=1000B'])).toEqual([
      [0, 'LabelFilterErr', 'strconv.ParseFloat: parsing "": invalid syntax'],
      [1, 'LabelFilterErr', 'unhandled size name: parsecs'],
      [2, 'LabelFilterErr', 'strconv.ParseFloat: parsing "1.5.3": invalid syntax'],
      [3, undefined, undefined],
    ]);
  });

  it('an empty value is present, so it fails to convert (unlike a missing label)', () => {
    const lines = [{ line: 'x', metadata: { n: '' } }, { line: 'y', metadata: { n: '7' } }, { line: 'z' }];
    const marks = (f: LabelFilterExpr) => run([lf(f)], lines).map((o) => [o.index, o.labels.__error_details__]);
    expect(marks(num('n', '>', 1))).toEqual([[0, 'strconv.ParseFloat: parsing "": invalid syntax'], [1, undefined]]);
    expect(marks(dur('n', '>', S))).toEqual([[0, 'time: invalid duration ""'], [1, 'time: missing unit in duration "7"']]);
    expect(marks(bytes('n', '>', 1))).toEqual([[0, 'strconv.ParseFloat: parsing "": invalid syntax'], [1, undefined]]);
  });

  it('compares durations to the nanosecond', () => {
    // Only `took=soon` of LINES survives an hour: it cannot convert.
    expect(idx([logfmt, lf(dur('took', '>', 3600n * S))])).toEqual([2]);
    const lines = ['took=1h0m0.000000001s', 'took=1h', 'took=3600000ms', 'took=59m59.999999999s'];
    expect(run([logfmt, lf(dur('took', '>', 3600n * S))], lines).map((o) => o.index)).toEqual([0]);
    expect(run([logfmt, lf(dur('took', '==', 3600n * S))], lines).map((o) => o.index)).toEqual([1, 2]);
    expect(run([logfmt, lf(dur('took', '<', 3600n * S))], lines).map((o) => o.index)).toEqual([3]);
  });

  it('leaves an earlier error and its details alone (the first failure owns them)', () => {
    const out = outcome([logfmt, lf(num('a', '>', 1)), lf(dur('b', '>', S))], ['a=abc b=xyz']);
    expect(out).toEqual([[0, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax']]);
    const json: PipelineStage = { kind: 'json', params: [] };
    const viaJson = run([json, logfmt, lf(num('a', '>', 1))], ['a=abc']);
    expect(viaJson.map((o) => o.labels.__error__)).toEqual(['JSONParserErr']);
    expect(viaJson[0]!.labels.__error_details__).not.toMatch(/ParseFloat/);
  });

  it('and: a false left operand decides, so the right one never runs and never marks the entry', () => {
    // a=0 fails `a > 1`; b would fail to convert.
    expect(outcome([logfmt, lf(and(num('a', '>', 1), num('b', '>', 1)))], ['a=0 b=abc'])).toEqual([]);
    expect(outcome([logfmt, lf(or(and(num('a', '>', 1), num('b', '>', 1)), str('c', '=', 'x')))], ['a=0 b=abc c=x'])).toEqual([[0, undefined, undefined]]);
    // A left operand that cannot convert counts as true: the right one runs, and a second failure keeps the first's details.
    expect(outcome([logfmt, lf(and(num('a', '>', 1), dur('b', '>', S)))], ['a=abc b=5x', 'a=abc b=2s', 'a=abc b=0s'])).toEqual([
      [0, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax'],
      [1, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax'],
    ]);
    // A true left operand lets the right one decide, and mark.
    expect(outcome([logfmt, lf(and(num('a', '>', 1), dur('b', '>', S)))], ['a=5 b=5x'])).toEqual([[0, 'LabelFilterErr', 'time: unknown unit "x" in duration "5x"']]);
  });

  it('or: a true left operand decides, so the right one never runs', () => {
    expect(outcome([logfmt, lf(or(num('a', '>', 1), num('b', '>', 1)))], ['a=5 b=abc'])).toEqual([[0, undefined, undefined]]);
    // A conversion failure on the left keeps the entry: the right operand is not reached.
    expect(outcome([logfmt, lf(or(num('a', '>', 1), dur('b', '>', S)))], ['a=abc b=5x'])).toEqual([[0, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax']]);
    // A false left operand hands over to the right one, which owns the error.
    expect(outcome([logfmt, lf(or(num('a', '>', 1), dur('b', '>', S)))], ['a=0 b=5x', 'a=0 b=2s', 'a=0 b=0s', 'b=2s'])).toEqual([
      [0, 'LabelFilterErr', 'time: unknown unit "x" in duration "5x"'],
      [1, undefined, undefined],
      [3, undefined, undefined],
    ]);
  });

  it('a line dropped by an earlier stage never reaches a later comparison', () => {
    expect(outcome([logfmt, lf(num('a', '>', 1)), lf(num('b', '>', 1))], ['a=0 b=abc', 'a=2 b=abc'])).toEqual([[1, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax']]);
  });

  it('__error__ filters remove the marked entries', () => {
    const lines = ['n=abc', 'n=5', 'n=0'];
    expect(outcome([logfmt, lf(num('n', '>', 1)), lf(str('__error__', '=', ''))], lines)).toEqual([[1, undefined, undefined]]);
    expect(outcome([logfmt, lf(num('n', '>', 1)), lf(str('__error__', '!=', 'LabelFilterErr'))], lines)).toEqual([[1, undefined, undefined]]);
    expect(outcome([logfmt, lf(num('n', '>', 1)), lf(str('__error__', '!=', 'JSONParserErr'))], lines).map((o) => o[0])).toEqual([0, 1]);
  });
});

describe('ip() label filters', () => {
  const ip = (name: string, op: '=' | '!=', pattern: string): LabelFilterExpr => ({ kind: 'ip', name, op, pattern });
  const kept = (f: LabelFilterExpr, lines: string[], pre: PipelineStage[] = [logfmt]) => run([...pre, lf(f)], lines).map((o) => o.index);

  it('finds an address anywhere inside a longer value', () => {
    const lines = ['peer="client 10.0.0.7:80"', 'peer="from 11.0.0.7"', 'peer=10.0.0.7', 'peer="[2001:db8::5]:443"', 'peer="110.0.0.1"'];
    expect(kept(ip('peer', '=', '10.0.0.0/8'), lines)).toEqual([0, 2]);
    expect(kept(ip('peer', '!=', '10.0.0.0/8'), lines)).toEqual([1, 3, 4]);
    expect(kept(ip('peer', '=', '2001:db8::/32'), lines)).toEqual([3]);
    expect(kept(ip('peer', '=', '10.0.0.1'), lines)).toEqual([]);
    expect(kept(ip('peer', '=', '10.0.0.1-10.0.0.7'), lines)).toEqual([0, 2]);
  });

  it('keeps every entry that already carries an error, whatever the operator', () => {
    const json: PipelineStage = { kind: 'json', params: [] };
    for (const op of ['=', '!='] as const) {
      expect(run([json, lf(ip('peer', op, '10.0.0.0/8'))], ['not json', 'still not json']).map((o) => o.labels.__error__)).toEqual(['JSONParserErr', 'JSONParserErr']);
    }
    const err = run([logfmt, lf(num('n', '>', 0)), lf(ip('peer', '=', '10.0.0.0/8'))], ['n=abc peer=8.8.8.8']);
    expect(err.map((o) => o.labels.__error__)).toEqual(['LabelFilterErr']);
  });

  it('drops entries without the label for = and != alike', () => {
    expect(kept(ip('peer', '=', '10.0.0.0/8'), ['other=10.0.0.1'])).toEqual([]);
    expect(kept(ip('peer', '!=', '10.0.0.0/8'), ['other=10.0.0.1'])).toEqual([]);
    // An empty value is present (logfmt --keep-empty): it holds no address, so != keeps it.
    expect(kept(ip('peer', '!=', '10.0.0.0/8'), ['peer=""'], [{ ...logfmt, keepEmpty: true }])).toEqual([0]);
    // Without --keep-empty logfmt drops the empty value: the label is missing, and the line goes.
    expect(kept(ip('peer', '!=', '10.0.0.0/8'), ['peer=""'])).toEqual([]);
  });

  it('never sets __error__ itself', () => {
    expect(run([logfmt, lf(ip('peer', '=', '10.0.0.0/8'))], ['peer="not an address at all"'])).toEqual([]);
    expect(run([logfmt, lf(ip('peer', '!=', '10.0.0.0/8'))], ['peer="not an address at all"'])[0]!.labels.__error__).toBeUndefined();
  });
});
