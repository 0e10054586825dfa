import { describe, expect, it } from 'vitest';
import { DockerParser, parseDockerLine } from '../../agent/docker.js';
import type { ParsedLine } from '../../agent/parsed-line.js';
import { parseRFC3339 } from '../../src/model/time.js';

const rec = (log: string, stream = 'stdout', time = '2024-01-02T15:04:05.000000001Z') => JSON.stringify({ log, stream, time });

describe('docker json-file parsing', () => {
  it('parses log, stream and time, dropping the trailing newline', () => {
    const p = new DockerParser(1000);
    const out: ParsedLine[] = [];
    p.push(rec('hello\n', 'stderr'), 0, 10, 0n, (e) => out.push(e));
    expect(out).toEqual([{ ts: parseRFC3339('2024-01-02T15:04:05.000000001Z'), line: 'hello', stream: 'stderr', start: 0, end: 10 }]);
  });

  it('joins records split by docker (no trailing newline) per stream', () => {
    const p = new DockerParser(1000);
    const out: ParsedLine[] = [];
    p.push(rec('part one, ', 'stdout', '2024-01-02T15:04:05Z'), 0, 10, 0n, (e) => out.push(e));
    p.push(rec('other\n', 'stderr'), 10, 20, 0n, (e) => out.push(e));
    expect(p.heldStart()).toBe(0);
    p.push(rec('part two\n', 'stdout', '2024-01-02T15:04:06Z'), 20, 30, 0n, (e) => out.push(e));
    expect(out.map((e) => e.line)).toEqual(['other', 'part one, part two']);
    expect(out[1]!.ts).toBe(parseRFC3339('2024-01-02T15:04:05Z'));
    expect(out[1]!.start).toBe(0);
    expect(out[1]!.end).toBe(30);
  });

  it('falls back to the raw line for malformed records', () => {
    expect(parseDockerLine('{"log": 1}')).toBeNull();
    expect(parseDockerLine('{not json')).toBeNull();
    expect(parseDockerLine('{"log":"x","time":"yesterday"}')).toBeNull();
    const p = new DockerParser(1000);
    const out: ParsedLine[] = [];
    p.push('{broken', 0, 8, 7n, (e) => out.push(e));
    expect(out).toEqual([{ ts: 7n, line: '{broken', start: 0, end: 8 }]);
  });

  it('caps joined records and counts the truncation', () => {
    let n = 0;
    const p = new DockerParser(10, () => n++);
    const out: ParsedLine[] = [];
    p.push(rec('abcdefgh'), 0, 1, 0n, (e) => out.push(e));
    p.push(rec('ijklmnop'), 1, 2, 0n, (e) => out.push(e));
    p.push(rec('qrs\n'), 2, 3, 0n, (e) => out.push(e));
    expect(out[0]!.line).toBe('abcdefghij');
    expect(n).toBe(1);
  });
});
