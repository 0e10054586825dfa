import { describe, expect, it } from 'vitest';
import { detectedFieldValues, detectFields } from '../../src/querier/detected-fields.js';
import { detectLabels, isUuid, rejectLabel } from '../../src/querier/detected-labels.js';
import { fieldTypeOf, humanBytesSI, listedValue } from '../../src/querier/field-type.js';
import { lineFields } from '../../src/querier/line-fields.js';
import { promDuration } from '../../src/server/drilldown-limits.js';

/** Expectations follow Go's strconv, time.ParseDuration and go-humanize, which Loki's detection uses. */
describe('fieldTypeOf', () => {
  it.each([
    ['42', 'int'],
    ['-7', 'int'],
    ['+3', 'int'],
    ['0', 'int'], // an int before a boolean
    ['9223372036854775807', 'int'],
    ['9223372036854775808', 'float'], // past int64: ParseInt fails, ParseFloat does not
    ['1.5', 'float'],
    ['1.0', 'float'],
    ['1e3', 'float'],
    ['NaN', 'float'],
    ['inf', 'float'],
    ['true', 'boolean'],
    ['T', 'boolean'],
    ['False', 'boolean'],
    ['yes', 'string'],
    ['150ms', 'duration'],
    ['1h30m', 'duration'],
    ['-2s', 'duration'],
    ['5m', 'duration'], // a duration before five megabytes
    ['1d', 'string'], // Go durations have no days, and d is no byte unit
    ['10KB', 'bytes'],
    ['1.5 GiB', 'bytes'],
    ['2KiB', 'bytes'],
    ['12b', 'bytes'],
    ['', 'string'],
    ['hello world', 'string'],
  ])('%j is %s', (v, want) => {
    expect(fieldTypeOf(v)).toBe(want);
  });
});

describe('humanBytesSI and listedValue', () => {
  it.each([
    [7, '7B'],
    [512, '512B'],
    [1500, '1.5kB'],
    [2048, '2.0kB'],
    [4096, '4.1kB'],
    [10_000, '10kB'],
    [12_500, '12kB'], // Go's %.0f rounds an exact half to even
    [13_500, '14kB'],
    [82_854_982, '83MB'],
  ])('%d B reads %s', (n, want) => {
    expect(humanBytesSI(n)).toBe(want);
  });

  it('rewrites only values written with a byte unit', () => {
    expect(listedValue('1024KiB')).toBe('1.0MB');
    expect(listedValue('1.5KB')).toBe('1.5kB');
    expect(listedValue('10')).toBe('10');
    expect(listedValue('5ms')).toBe('5ms');
    expect(listedValue('info')).toBe('info');
  });
});

describe('lineFields', () => {
  it('flattens JSON objects, skips arrays and nulls, keeps the first of keys that sanitise alike, and records paths', () => {
    expect(lineFields('{"a":{"b":{"c":1}},"list":[1,2],"n":null,"a.x":"1","a_x":"2","ok":false,"f":2.50}', {})).toEqual({
      parser: 'json',
      fields: [
        { name: 'a_b_c', value: '1', jsonPath: ['a', 'b', 'c'] },
        { name: 'a_x', value: '1', jsonPath: ['a.x'] },
        { name: 'ok', value: 'false', jsonPath: ['ok'] },
        { name: 'f', value: '2.5', jsonPath: ['f'] },
      ],
    });
  });

  it('reads other lines as lenient logfmt, dropping pairs without a value', () => {
    expect(lineFields('{not json} a=1 bare empty= my-key="x y"', {})).toEqual({
      parser: 'logfmt',
      fields: [
        { name: 'a', value: '1' },
        { name: 'my_key', value: 'x y' },
      ],
    });
    expect(lineFields('plain words only', {})).toBeNull();
    expect(lineFields('{}', {})).toBeNull();
  });

  it('renames a field that is one of the stream labels to <name>_extracted', () => {
    expect(lineFields('app=x level=info', { app: 'api' })?.fields).toEqual([
      { name: 'app_extracted', value: 'x' },
      { name: 'level', value: 'info' },
    ]);
  });
});

describe('detectFields', () => {
  it('takes the type of the last entry read, counts distinct values, and stops adding fields at the limit', async () => {
    const samples = [
      { streamLabels: { app: 'a' }, metadata: { trace: 't1' }, lines: ['x=1 y=a', 'x=2 y=b'] },
      { streamLabels: { app: 'b' }, metadata: {}, lines: ['x=oops z=1'] },
    ];
    expect(await detectFields(samples, 10)).toEqual([
      { label: 'trace', type: 'string', cardinality: 1, parsers: null },
      { label: 'x', type: 'string', cardinality: 3, parsers: ['logfmt'] },
      { label: 'y', type: 'string', cardinality: 2, parsers: ['logfmt'] },
      { label: 'z', type: 'int', cardinality: 1, parsers: ['logfmt'] },
    ]);
    expect((await detectFields(samples, 2)).map((f) => f.label)).toEqual(['trace', 'x']);
    expect(await detectedFieldValues(samples, 'x', 10)).toEqual(['1', '2', 'oops']);
    expect(await detectedFieldValues(samples, 'x', 2)).toEqual(['1', '2']);
    expect(await detectedFieldValues(samples, 'trace', 10)).toEqual(['t1']);
  });
});

describe('detected labels', () => {
  it('recognises UUIDs as Go’s uuid.Parse does', () => {
    const u = '6f1c2a3e-1b2c-4d5e-8f90-123456789ABC';
    expect(isUuid(u)).toBe(true);
    expect(isUuid(`{${u}}`)).toBe(true);
    expect(isUuid(`urn:uuid:${u}`)).toBe(true);
    expect(isUuid(u.replace(/-/g, ''))).toBe(true);
    expect(isUuid(u.slice(1))).toBe(false);
    expect(isUuid(u.replace('6', 'g'))).toBe(false);
  });

  it('rejects labels with no values or only numbers and UUIDs, except a 0/1 flag', () => {
    expect(rejectLabel([])).toBe(true);
    expect(rejectLabel(['0', '1'])).toBe(false);
    expect(rejectLabel(['1'])).toBe(false);
    expect(rejectLabel(['0', '2'])).toBe(true);
    expect(rejectLabel(['0', '1', '2'])).toBe(true);
    expect(rejectLabel(['1e5', 'NaN'])).toBe(true);
    expect(rejectLabel(['6f1c2a3e-1b2c-4d5e-8f90-123456789abc', '3'])).toBe(true);
    expect(rejectLabel(['a', '1'])).toBe(false);
  });

  it('keeps the static labels whatever their values', () => {
    expect(
      detectLabels([
        { pod: '1', instance: '2', cluster: '3', namespace: '4', port: '80', app: 'x' },
        { pod: '5', instance: '6', cluster: '7', namespace: '8', port: '81', app: 'x' },
      ]),
    ).toEqual([
      { label: 'app', cardinality: 1 },
      { label: 'cluster', cardinality: 2 },
      { label: 'instance', cardinality: 2 },
      { label: 'namespace', cardinality: 2 },
      { label: 'pod', cardinality: 2 },
    ]);
  });
});

describe('promDuration', () => {
  const ms = (n: number) => BigInt(n) * 1_000_000n;
  const day = 86_400_000;
  it.each([
    [0, '0s'],
    [60_000, '1m'],
    [1_500, '1s500ms'],
    [30 * day + 3_600_000, '30d1h'],
    [7 * day, '1w'],
    [8 * day, '8d'],
    [14 * day, '2w'],
    [365 * day, '1y'],
  ])('%d ms is %s', (n, want) => {
    expect(promDuration(ms(n))).toBe(want);
  });
});
