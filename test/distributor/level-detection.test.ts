/**
 * detected_level as Loki 3's distributor works it out: the expectations follow its documented precedence
 * (existing detected_level, stream label, metadata, OTLP severity_number, then the line) and value table.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { LevelDetector, levelFromWords, normalizeLevel, severityLevel } from '../../src/distributor/level-detection.js';
import { sameMetadata, type IngestEntry } from '../../src/model/entry.js';

const limits = loadConfig([], {}).limits;
const det = LevelDetector.of(limits);

function md(o: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null) as Record<string, string>, o);
}

/** detected_level of one entry pushed with these stream labels and metadata, or undefined when none is added. */
function level(line: string, labels: Record<string, string> = { app: 'x' }, meta?: Record<string, string>, d = det): string | undefined {
  const e: IngestEntry = { ts: 1n, line: Buffer.from(line) };
  if (meta) e.metadata = md(meta);
  d.decorate(e, d.streamLevel(labels));
  return e.metadata?.detected_level;
}

describe('level values', () => {
  it('normalises the known spellings in any case and keeps anything else as it is', () => {
    const table: [string, string][] = [
      ['TRACE', 'trace'], ['trc', 'trace'], ['Debug', 'debug'], ['DBG', 'debug'], ['info', 'info'], ['INF', 'info'],
      ['Information', 'info'], ['WaRn', 'warn'], ['wrn', 'warn'], ['WARNING', 'warn'], ['ERROR', 'error'], ['Err', 'error'],
      ['CRITICAL', 'critical'], ['FaTaL', 'fatal'], ['notice', 'notice'], ['Emergency', 'Emergency'], ['', ''],
    ];
    for (const [v, want] of table) expect(normalizeLevel(v), v).toBe(want);
  });

  it('maps OTLP severity numbers by the OpenTelemetry ranges; not a number is info', () => {
    const table: [string, string][] = [
      ['0', 'unknown'], ['1', 'trace'], ['4', 'trace'], ['5', 'debug'], ['8', 'debug'], ['9', 'info'], ['12', 'info'],
      ['13', 'warn'], ['16', 'warn'], ['17', 'error'], ['20', 'error'], ['21', 'fatal'], ['24', 'fatal'], ['25', 'unknown'],
      ['-3', 'trace'], ['+17', 'error'], ['foo', 'info'], ['1.5', 'info'], [' 9', 'info'], ['99999999999999999999', 'info'],
    ];
    for (const [v, want] of table) expect(severityLevel(v), v).toBe(want);
  });
});

describe('level words in a line', () => {
  it('takes the first level word standing alone, case-insensitively', () => {
    const table: [string, string][] = [
      ['this is a warning log', 'warn'],
      ['ERROR: disk full', 'error'],
      ['[INFO] started', 'info'],
      ['an err: x', 'error'],
      ['info then error', 'info'],
      ['an error, then info', 'error'],
      ['a CRITICAL failure', 'critical'],
      ['fatal!', 'fatal'],
      ['trace(id 7)', 'trace'],
      ['(debug) x', 'debug'],
      ['WARN disk 91%', 'warn'],
      ['0 errors found', 'unknown'],
      ['Debugging the informational output', 'unknown'],
      ['some information here', 'unknown'],
      ['misc:error happened', 'unknown'],
      ['preinfo', 'unknown'],
      ['', 'unknown'],
    ];
    for (const [line, want] of table) expect(levelFromWords(Buffer.from(line)), line).toBe(want);
  });
});

describe('detected_level of an entry', () => {
  it('keeps an existing detected_level, normalised, over every other source', () => {
    expect(level('{"level":"error"}', { app: 'x', level: 'debug' }, { detected_level: 'TRACE', severity: 'critical', severity_number: '13' })).toBe('trace');
    expect(level('an error', { app: 'x' }, { detected_level: 'notice' })).toBe('notice');
  });

  it('takes a level stream label next, normalised, even over the line and metadata', () => {
    expect(level('level=debug', { app: 'x', level: 'ERROR' }, { severity: 'warn' })).toBe('error');
    expect(level('an error', { app: 'x', severity: 'Notice' })).toBe('Notice');
    // The list's order decides between two level labels: level before lvl.
    expect(level('x', { lvl: 'debug', level: 'warn' })).toBe('warn');
  });

  it('then a level field of the metadata, in the list order (Severity before lvl), then OTLP severity_number', () => {
    expect(level('an error', { app: 'x' }, { severity: 'warn' })).toBe('warn');
    expect(level('x', { app: 'x' }, { lvl: 'debug', severity: 'error' })).toBe('error');
    expect(level('an error', { app: 'x' }, { severity_text: 'WARN', severity_number: '17' })).toBe('warn');
    expect(level('an error', { app: 'x' }, { severity_number: '5' })).toBe('debug');
    expect(level('an error', { app: 'x' }, { severity_number: 'high' })).toBe('info');
  });

  it('adds nothing when a level metadata field is present but empty', () => {
    expect(level('an error', { app: 'x' }, { level: '' })).toBeUndefined();
  });

  it('reads a JSON line: first string level field in document order, nested objects to depth 2, arrays not searched', () => {
    expect(level('{"level":"warn","msg":"an error"}')).toBe('warn');
    expect(level(' {"msg":"boom","lvl":"ERR"} ')).toBe('error');
    expect(level('{"Level":"information"}')).toBe('info');
    expect(level('{"a":{"level":"dbg"},"level":"error"}')).toBe('debug');
    expect(level('{"a":{"b":{"level":"dbg"}},"msg":"x"}')).toBe('unknown');
    expect(level('{"list":[{"level":"dbg"}],"msg":"x"}')).toBe('unknown');
    // pino's numeric levels are not strings: no field, and no word either.
    expect(level('{"level":30,"msg":"x"}')).toBe('unknown');
    // A field that is no level falls back to the words of the whole line.
    expect(level('{"level":"notice","msg":"disk warning"}')).toBe('warn');
    // Keys are case-sensitive in JSON: LeVeL is not a field, and "dbg" is no level word.
    expect(level('{"LeVeL":"dbg"}')).toBe('unknown');
    expect(level('{"LEVEL":"dbg"}')).toBe('debug');
  });

  it('searches deeper with log_level_from_json_max_depth 0 (no limit) and only the top with 1', () => {
    const deep = new LevelDetector(limits.logLevelFields, 0);
    const top = new LevelDetector(limits.logLevelFields, 1);
    expect(level('{"a":{"b":{"level":"dbg"}},"msg":"x"}', { app: 'x' }, undefined, deep)).toBe('debug');
    expect(level('{"a":{"level":"dbg"},"msg":"x"}', { app: 'x' }, undefined, top)).toBe('unknown');
  });

  it('reads a logfmt line: keys match case-insensitively, an earlier field of the list wins, scanning stops at a bad pair', () => {
    expect(level('ts=1 level=Warn msg="an error"')).toBe('warn');
    expect(level('msg="boom" LEVEL=inFO')).toBe('info');
    expect(level('lvl=debug severity=critical')).toBe('critical');
    expect(level('level="trc" x=1')).toBe('trace');
    expect(level('level=NA msg=foo')).toBe('unknown');
    expect(level('level=notice msg="disk warning"')).toBe('warn');
    expect(level('a=b level=wrn')).toBe('warn');
    expect(level('a=b=c level=wrn')).toBe('unknown');
  });

  it('uses the configured log_level_fields instead of the defaults', () => {
    const custom = new LevelDetector(['log_level'], 2);
    expect(level('{"log_level":"ERR"}', { app: 'x' }, undefined, custom)).toBe('error');
    expect(level('{"level":"dbg"}', { app: 'x' }, undefined, custom)).toBe('unknown');
    expect(level('{"level":"dbg"}')).toBe('debug');
  });

  it('copies a client metadata object instead of changing it, and is deterministic for a resent entry', () => {
    const own = md({ trace_id: 'abc' });
    const a: IngestEntry = { ts: 1n, line: Buffer.from('level=error'), metadata: own };
    const b: IngestEntry = { ts: 1n, line: Buffer.from('level=error'), metadata: md({ trace_id: 'abc' }) };
    det.decorate(a, undefined);
    det.decorate(b, undefined);
    expect({ ...own }).toEqual({ trace_id: 'abc' });
    expect({ ...a.metadata }).toEqual({ trace_id: 'abc', detected_level: 'error' });
    expect(sameMetadata(a.metadata, b.metadata)).toBe(true);
    const plain: IngestEntry = { ts: 1n, line: Buffer.from('an error') };
    det.decorate(plain, undefined);
    expect(Object.isFrozen(plain.metadata)).toBe(true);
    expect({ ...plain.metadata }).toEqual({ detected_level: 'error' });
  });
});

describe('detection on hostile lines', () => {
  it('never throws, always answers a level, and answers the same twice, whatever the bytes (seeded fuzz)', () => {
    let seed = 0x9e3779b9;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const tokens = ['{', '}', '[', ']', '"', '\\', '=', ':', ',', ' ', 'level', 'LEVEL', 'lvl', 'error', 'warn', 'info', 'x', '\n', '\u00e9', '{"level":', '"debug"', 'level="', '\\"'];
    const allowed = new Set(['trace', 'debug', 'info', 'warn', 'error', 'critical', 'fatal', 'unknown']);
    const deep = new LevelDetector(limits.logLevelFields, 0);
    for (let k = 0; k < 3000; k++) {
      let s = rnd(2) ? '{' : '';
      for (let n = rnd(40); n > 0; n--) s += tokens[rnd(tokens.length)];
      if (rnd(2)) s += '}';
      const line = Buffer.from(s);
      for (const d of [det, deep]) {
        const a = d.lineLevel(line);
        expect(allowed.has(a), s).toBe(true);
        expect(d.lineLevel(line)).toBe(a);
      }
    }
    // A line nested far deeper than any stack, with no depth limit: walked without recursion.
    const nested = Buffer.from('{"a":'.repeat(200_000) + '{"level":"dbg"}' + '}'.repeat(200_000));
    expect(deep.lineLevel(nested)).toBe('debug');
    expect(det.lineLevel(nested)).toBe('unknown');
  });
});
