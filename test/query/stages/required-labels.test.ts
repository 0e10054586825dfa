import { describe, expect, it } from 'vitest';
import type { PipelineStage } from '../../../query/ast.js';
import { buildPipeline } from '../../../query/pipeline.js';
import { parseExpr } from '../../../query/parser.js';
import { requiredAfter } from '../../../query/required-labels.js';
import { JsonFieldScanner, JsonWant } from '../../../query/stages/json-scan.js';
import { LogfmtFieldScanner } from '../../../query/stages/logfmt-scan.js';
import { batchFromEntries, type EntryBatch } from '../../../src/model/batch.js';
import type { Labels } from '../../../src/model/labels.js';
import { generateLines, generateStreams, prng } from '../../../bench/generate.js';

/**
 * Parsers given a required-labels hint must produce, for the labels they were asked for (and for
 * __error__/__error_details__), what the full parsers produce on the part of the line they read: like
 * Loki's, they stop once every wanted field is found, so what follows (a broken tail, a repeated key) is
 * not seen. Entries with errors must come out with every label. Checked over hand-written edge cases
 * and over mutated generated lines.
 */

const STREAM: Labels = { app: 'api', level: 'stream-level' };

function batchOfBytes(lines: Buffer[]): EntryBatch {
  const offsets = new Uint32Array(lines.length + 1);
  let off = 0;
  lines.forEach((l, i) => {
    off += l.length;
    offsets[i + 1] = off;
  });
  return { count: lines.length, ts: BigInt64Array.from(lines.map((_, i) => BigInt(i + 1))), lineOffsets: offsets, lines: Buffer.concat(lines) };
}

function runAll(stages: PipelineStage[], batch: EntryBatch, required: ReadonlySet<string> | null): (Labels | null)[] {
  const out: (Labels | null)[] = new Array(batch.count).fill(null);
  buildPipeline(stages, required).run(batch, STREAM, (i, _line, labels) => {
    out[i] = { ...labels };
  });
  return out;
}

function project(l: Labels | null, names: ReadonlySet<string>): Labels | null {
  if (!l) return null;
  if (l.__error__) return l;
  const out: Labels = {};
  for (const n of names) if (l[n] !== undefined) out[n] = l[n]!;
  return out;
}

/**
 * Hinted and full parsers agree on every line, except where `early` gives the labels a scan that
 * stopped early must produce instead (the line's text → the hinted labels, compared whole).
 */
function expectSame(stages: PipelineStage[], lines: Buffer[], required: ReadonlySet<string>, early: Record<string, Labels> = {}): void {
  const batch = batchOfBytes(lines);
  const full = runAll(stages, batch, null);
  const hinted = runAll(stages, batch, required);
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.toString('latin1');
    const want = early[text];
    if (want) expect(hinted[i], `line ${JSON.stringify(text)}`).toEqual(want);
    else expect(project(hinted[i]!, required), `line ${JSON.stringify(text)}`).toEqual(project(full[i]!, required));
  }
}

const JSON_CASES = [
  '{"level":"info","msg":"x"}',
  ' \t{"level" : "warn" }\r\n',
  '{"msg":"a \\"quoted\\" level","level":"err\\u00e9\\n\\t\\/\\\\"}',
  '{"level":12.50}',
  '{"level":-0}',
  '{"level":1e400}',
  '{"level":1E-7,"x":[1,2,{"level":"nested-in-array"}]}',
  '{"level":true}',
  '{"level":false,"other":null}',
  '{"level":null}',
  '{"level":{"inner":"v"}}',
  '{"a":{"b":{"c":"deep"}},"level":"x"}',
  '{"a":{"b":"one"},"a_b":"two"}',
  '{"a_b":"two","a":{"b":"one"}}',
  '{"a":{"b":"first"},"a":"second"}',
  '{"level":"a","level":"b"}',
  '{"le-vel":"dash","level":"plain"}',
  '{"1":"digit","_1":"underscore"}',
  '{"_1":"underscore","1":"digit"}',
  '{"lev\\u0065l":"escaped key"}',
  '{"ünï":"x","level":"y"}',
  '{"level":"ünïcødé ✓"}',
  '{"level":"a"}trailing',
  '{"level":"a",}',
  '{"level":"a" "b":1}',
  '{"level":01}',
  '{"level":1.}',
  '{"level":.5}',
  '{"level":+1}',
  '{"level":"tab\there"}',
  '{"level":"bad \\x escape"}',
  '{"level":"\\u12G4"}',
  '{"level":tru}',
  '{"level":"unterminated}',
  '[{"level":"array top"}]',
  '"just a string"',
  '42',
  '',
  'not json at all',
  '{}',
  '{"level":"x"',
  '{"x":[1,[2,[3,{"y":{}}]]],"level":"after nesting"}',
  '{"x":[1,2,],"level":"bad array"}',
  '{"x":{"y":1,},"level":"bad object"}',
  '{"app":"clash with stream label","level":"l"}',
  '{"level":"\\ud83d\\ude00 surrogate pair and lone \\ud800"}',
  '{"x":"' + '['.repeat(600) + '","level":"brackets in a string"}',
  '{"x":' + '['.repeat(600) + ']'.repeat(600) + ',"level":"deep arrays"}',
];

describe('required labels', () => {
  it('walks the pipeline backwards: filters and renames add what they read, templates need everything', () => {
    const stages = (q: string) => (parseExpr(q) as { pipeline: PipelineStage[] }).pipeline;
    const names = (r: ReadonlySet<string> | null) => (r ? [...r].sort() : null);
    const req = requiredAfter(stages('{a="b"} | json | status >= 400 | label_format lvl=level'), new Set(['lvl']));
    expect(req.map(names)).toEqual([
      ['level', 'lvl', 'status'],
      ['level', 'lvl'],
      ['lvl'],
    ]);
    expect(requiredAfter(stages('{a="b"} | json | line_format "{{.x}}" | logfmt'), new Set(['x'])).map(names)).toEqual([null, ['x'], ['x']]);
    expect(requiredAfter(stages('{a="b"} | json'), null)).toEqual([null]);
  });

  it('json: the hinted scanner extracts what JSON.parse + flatten would, up to where it stops, for every edge case', () => {
    const lines = JSON_CASES.map((l) => Buffer.from(l, 'utf8'));
    // Invalid UTF-8 inside and outside strings.
    lines.push(Buffer.concat([Buffer.from('{"level":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]));
    lines.push(Buffer.concat([Buffer.from('{"level":"ok",'), Buffer.from([0xff]), Buffer.from('}')]));
    const stages: PipelineStage[] = [{ kind: 'json', params: [] }];
    // With only `level` wanted the scan ends after its value and the `,` or `}` that must follow it: a
    // later duplicate, a broken tail or a bad byte further on go unseen (the full parser reports them, or
    // takes the last duplicate).
    const levelA = { ...STREAM, level_extracted: 'a' };
    const early: Record<string, Record<string, Labels>> = {
      level: {
        '{"level":"a","level":"b"}': levelA,
        '{"level":"a"}trailing': levelA,
        '{"level":"a",}': levelA,
        '{"level":"ok",\xff}': { ...STREAM, level_extracted: 'ok' },
      },
      a_b: {
        '{"a":{"b":"first"},"a":"second"}': { ...STREAM, a_b: 'first' },
        '{"a":{"b":"one"},"a_b":"two"}': { ...STREAM, a_b: 'one' },
        '{"a_b":"two","a":{"b":"one"}}': { ...STREAM, a_b: 'two' },
      },
      _1: { '{"1":"digit","_1":"underscore"}': { ...STREAM, _1: 'digit' } },
    };
    // `| __error__=""` makes __error__ required; no line is expected to carry it, so it does not hold the scan.
    early['level,__error__'] = early.level!;
    for (const req of [['level'], ['level', '__error__'], ['a_b'], ['a_b_c'], ['_1'], ['le_vel'], ['level_extracted'], ['app_extracted'], ['x', 'level'], ['level_inner'], ['other'], []]) {
      expectSame(stages, lines, new Set(req), early[req.join(',')]);
    }
  });

  it('json: the scanner itself reports ambiguous and invalid lines instead of guessing', () => {
    const sc = new JsonFieldScanner(new JsonWant(new Set(['level', 'a_b'])));
    const scan = (s: string) => {
      const b = Buffer.from(s);
      return sc.scan(b, 0, b.length) ? Object.fromEntries(sc.names.slice(0, sc.count).map((n, i) => [n, sc.values[i]])) : 'fallback';
    };
    expect(scan('{"level":"x","a":{"b":2.50}}')).toEqual({ level: 'x', a_b: '2.5' });
    // Both found: the rest of the line is not read.
    expect(scan('{"level":"a","a":{"b":1},"level":"b"} x')).toEqual({ level: 'a', a_b: '1' });
    // A wanted name twice before the scan could end: JSON.parse decides.
    expect(scan('{"level":"a","level":"b"}')).toBe('fallback');
    expect(scan('{"a":{"b":1},"a_b":2}')).toBe('fallback');
    expect(scan('{"level":"x"} x')).toBe('fallback');
    expect(scan('{"level":"tab\there"}')).toBe('fallback');
    // Values are remembered by their bytes: a value seen before comes back right, in either order.
    expect(scan('{"level":"shared","a":{"b":7}}')).toEqual({ level: 'shared', a_b: '7' });
    expect(scan('{"a":{"b":7},"level":"shared"}')).toEqual({ a_b: '7', level: 'shared' });
  });

  it('logfmt: the hinted byte scanner extracts what the string scanner would, up to where it stops, in every mode', () => {
    const cases = [
      'level=info msg="hello world" status=200',
      'level="quoted \\"esc\\" \\u00e9 \\n" level=second',
      'level= other=1',
      'level=""',
      'level',
      'lev-el=dash level=x',
      '  level=lead   ',
      'a=b=c level=after-bad',
      'level="unterminated',
      'level="bad \\q escape" x=1',
      'level="closed"junk next=1',
      '=nokey level=1',
      '"quoted key"=1 level=2',
      'level=ünïcødé msg=✓',
      'level=a\tb=c',
      '1abc=digit _1abc=x',
      'app=clash level=l',
      '',
    ].map((l) => Buffer.from(l, 'utf8'));
    cases.push(Buffer.concat([Buffer.from('level='), Buffer.from([0xff, 0xfe]), Buffer.from(' x=1')]));
    for (const strict of [false, true]) {
      for (const keepEmpty of [false, true]) {
        const stages: PipelineStage[] = [{ kind: 'logfmt', strict, keepEmpty, params: [] }];
        // `1abc` and `_1abc` both name _1abc: the scan ends at the first.
        const early: Record<string, Record<string, Labels>> = { _1abc: { '1abc=digit _1abc=x': { ...STREAM, _1abc: 'digit' } } };
        early['_1abc,__error__'] = early._1abc!;
        for (const req of [['level'], ['lev_el'], ['_1abc'], ['_1abc', '__error__'], ['app_extracted'], ['b', 'level'], []]) expectSame(stages, cases, new Set(req), early[req.join(',')]);
      }
    }
    // Strict mode: a syntax error the scan reaches is reported; one after the last wanted key is not read.
    const b = Buffer.from('level=a b="x');
    expect(new LogfmtFieldScanner(new Set(['level', 'b']), true, false).scan(b, 0, b.length)).toBe(false);
    const sc = new LogfmtFieldScanner(new Set(['level']), true, false);
    expect(sc.scan(b, 0, b.length)).toBe(true);
    expect(sc.names.slice(0, sc.count)).toEqual(['level']);
  });

  it('entries ending with an error keep every label, as without the hint', () => {
    const stages = (parseExpr('{a="b"} | json | status > 400') as { pipeline: PipelineStage[] }).pipeline;
    const lines = ['{"status":"oops","level":"x","request_id":"r1"}', '{"status":500,"level":"y","request_id":"r2"}', 'garbage'].map((l) => Buffer.from(l));
    const batch = batchOfBytes(lines);
    const hinted = runAll(stages, batch, new Set(['level']));
    expect(hinted[0]).toEqual(runAll(stages, batch, null)[0]);
    expect(hinted[0]!.request_id).toBe('r1');
    expect(hinted[1]).toEqual({ ...STREAM, level_extracted: 'y', status: '500' });
    // garbage: JSONParserErr and no status, so the comparison drops it (Loki 3.x), hinted or not.
    expect(hinted[2]).toBeNull();
    expect(runAll(stages, batch, null)[2]).toBeNull();
  });

  it('mutated generated lines: hinted parsers give what the full parser gives on the shortest complete prefix', () => {
    const streams = generateStreams(50, 1);
    const rand = prng(42);
    const byFormat: Record<string, Buffer[]> = { json: [], logfmt: [] };
    for (const l of generateLines({ maxLines: 4000 })) {
      const f = streams[l.stream]!.format;
      if (f === 'nginx') continue;
      const b = Buffer.from(l.line);
      byFormat[f]!.push(b);
      // Flip, drop or insert a byte at a random place: mostly invalid lines, some still valid.
      const m = Buffer.from(b);
      const at = Math.floor(rand() * m.length);
      const kind = rand();
      if (kind < 0.4) m[at] = Math.floor(rand() * 128);
      else if (kind < 0.7) byFormat[f]!.push(Buffer.concat([m.subarray(0, at), m.subarray(at + 1)]));
      else byFormat[f]!.push(Buffer.concat([m.subarray(0, at), Buffer.from([[0x22, 0x5c, 0x7b, 0x7d, 0x3d, 0x20, 0x2c][Math.floor(rand() * 7)]!]), m.subarray(at)]));
      if (kind < 0.4) byFormat[f]!.push(m);
    }
    // The places a scan can stop at, as complete lines: a JSON object closed after a `,` or `}` (the
    // generated objects are flat), or a logfmt line cut at whitespace.
    const jsonPrefixes = (line: Buffer): Buffer[] => {
      const out: Buffer[] = [];
      for (let q = 0; q < line.length; q++) if (line[q] === 0x2c || line[q] === 0x7d) out.push(Buffer.concat([line.subarray(0, q), Buffer.from('}')]));
      return out;
    };
    const logfmtPrefixes = (line: Buffer): Buffer[] => {
      const out: Buffer[] = [];
      for (let q = 0; q < line.length; q++) if (line[q]! <= 0x20) out.push(line.subarray(0, q));
      return out;
    };
    const extracted = (l: Labels, w: string) => l[w in STREAM ? `${w}_extracted` : w] !== undefined;
    /**
     * The reference: the full parser on the shortest prefix that parses without error and holds every
     * wanted field, or on the whole line when there is none. Returns how many lines that changed.
     */
    const check = (stages: PipelineStage[], lines: Buffer[], wanted: string[], prefixes: (line: Buffer) => Buffer[]): number => {
      const required = new Set(wanted);
      const hinted = runAll(stages, batchOfBytes(lines), required);
      const full = runAll(stages, batchOfBytes(lines), null);
      const cands = lines.map(prefixes);
      const candOut = runAll(stages, batchOfBytes(cands.flat()), null);
      let k = 0;
      let changed = 0;
      lines.forEach((line, i) => {
        let expected = full[i]!;
        let found = false;
        for (let c = 0; c < cands[i]!.length; c++, k++) {
          const out = candOut[k]!;
          if (found || !out || out.__error__ || !wanted.every((w) => extracted(out, w))) continue;
          found = true;
          expected = out;
        }
        const want = project(expected, required);
        if (JSON.stringify(want) !== JSON.stringify(project(full[i]!, required))) changed++;
        expect(project(hinted[i]!, required), `line ${JSON.stringify(line.toString('latin1'))}`).toEqual(want);
      });
      return changed;
    };
    let changed = 0;
    for (const req of [['level'], ['level', 'status'], ['duration_ms'], ['msg', 'path']]) {
      changed += check([{ kind: 'json', params: [] }], byFormat.json!, req, jsonPrefixes);
      changed += check([{ kind: 'logfmt', strict: false, keepEmpty: false, params: [] }], byFormat.logfmt!, req, logfmtPrefixes);
      changed += check([{ kind: 'logfmt', strict: true, keepEmpty: false, params: [] }], byFormat.logfmt!, req, logfmtPrefixes);
    }
    // Not vacuous: many lines broken after their wanted fields come out without an error.
    expect(changed).toBeGreaterThan(500);
  });
});
