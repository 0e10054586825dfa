import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from '../../../src/distributor/otlp/decode-json.js';
import { decodeOtlpProto } from '../../../src/distributor/otlp/decode-proto.js';
import { OtlpKvList, OtlpDecodeError } from '../../../src/distributor/otlp/model.js';
import { encodeOtlpRequest } from '../../helpers/otlp-proto.js';

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** One request written both ways: the two decoders must agree on every field. */
const PROTO = {
  resource_logs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
      scope_logs: [
        {
          scope: { name: 'lib', version: '1.2', attributes: [{ key: 's', value: { bool_value: true } }], dropped_attributes_count: 2 },
          log_records: [
            {
              time_unix_nano: '1700000000123456789',
              observed_time_unix_nano: '1700000000999999999',
              severity_number: 17,
              severity_text: 'ERROR',
              body: { kvlist_value: { values: [{ key: 'k', value: { array_value: { values: [{ int_value: '-9223372036854775808' }, { double_value: 0.5 }, { bytes_value: Buffer.from([1, 2, 255]) }, {}] } } }] } },
              attributes: [{ key: 'big', value: { int_value: '9223372036854775807' } }],
              dropped_attributes_count: 3,
              flags: 257,
              trace_id: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex'),
              span_id: Buffer.from('a1a2a3a4a5a6a7a8', 'hex'),
            },
            { trace_id: Buffer.alloc(16), span_id: Buffer.alloc(8) },
          ],
        },
      ],
    },
  ],
};

const JSON_BODY = {
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeLogs: [
        {
          scope: { name: 'lib', version: '1.2', attributes: [{ key: 's', value: { boolValue: true } }], droppedAttributesCount: 2 },
          logRecords: [
            {
              timeUnixNano: '1700000000123456789',
              observed_time_unix_nano: '1700000000999999999',
              severityNumber: 'SEVERITY_NUMBER_ERROR',
              severityText: 'ERROR',
              body: { kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ intValue: '-9223372036854775808' }, { doubleValue: 0.5 }, { bytesValue: 'AQL/' }, {}] } } }] } },
              attributes: [{ key: 'big', value: { intValue: '9223372036854775807' } }],
              droppedAttributesCount: 3,
              flags: 257,
              traceId: '0102030405060708090A0B0C0D0E0F10',
              spanId: 'a1a2a3a4a5a6a7a8',
            },
            { traceId: '00000000000000000000000000000000', spanId: '' },
          ],
        },
      ],
    },
  ],
};

describe('OTLP decoders', () => {
  it('decode the same request alike from protobuf and JSON, every field and value type', () => {
    const fromProto = decodeOtlpProto(encodeOtlpRequest(PROTO));
    const fromJson = decodeOtlpJson(Buffer.from(JSON.stringify(JSON_BODY)));
    const norm = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `big:${x}` : x instanceof Uint8Array ? `bytes:${Buffer.from(x).toString('hex')}` : x)));
    expect(norm(fromJson)).toEqual(norm(fromProto));
    const rec = fromProto[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(rec.timeUnixNano).toBe(1700000000123456789n);
    expect(rec.observedTimeUnixNano).toBe(1700000000999999999n);
    expect([rec.severityNumber, rec.severityText, rec.droppedAttributesCount, rec.flags, rec.traceId, rec.spanId]).toEqual([17, 'ERROR', 3, 257, '0102030405060708090a0b0c0d0e0f10', 'a1a2a3a4a5a6a7a8']);
    expect(rec.attributes[0]!.value).toBe(9223372036854775807n);
    const body = rec.body as OtlpKvList;
    expect(body).toBeInstanceOf(OtlpKvList);
    const arr = body.values[0]!.value as unknown[];
    expect(arr[0]).toBe(-9223372036854775808n);
    expect(arr[1]).toBe(0.5);
    expect(Buffer.from(arr[2] as Uint8Array).toString('hex')).toBe('0102ff');
    expect(arr[3]).toBeUndefined();
    const empty = fromProto[0]!.scopeLogs[0]!.logRecords[1]!;
    expect([empty.traceId, empty.spanId, empty.timeUnixNano]).toEqual(['', '', 0n]);
    expect(fromProto[0]!.scopeLogs[0]!.scope).toEqual({ name: 'lib', version: '1.2', attributes: [{ key: 's', value: true }], droppedAttributesCount: 2 });
  });

  it('skip unknown protobuf fields and accept an empty request', () => {
    // Field 15 (varint 7) and field 16 (a string) before the resource_logs: readers skip what they do not know.
    const known = encodeOtlpRequest({ resource_logs: [{ scope_logs: [{ log_records: [{ severity_text: 'X' }] }] }] });
    const withUnknown = Buffer.concat([Buffer.from([0x78, 0x07, 0x82, 0x01, 0x02, 0x68, 0x69]), known]);
    expect(decodeOtlpProto(withUnknown)[0]!.scopeLogs[0]!.logRecords[0]!.severityText).toBe('X');
    expect(decodeOtlpProto(Buffer.alloc(0))).toEqual([]);
    expect(decodeOtlpJson(Buffer.from('{}'))).toEqual([]);
  });

  it('refuse malformed protobuf with where and what', () => {
    const good = encodeOtlpRequest(PROTO);
    expect(() => decodeOtlpProto(good.subarray(0, 10))).toThrow(/^malformed protobuf ExportLogsServiceRequest: length \d+ runs past the end of its message at byte \d+$/);
    expect(() => decodeOtlpProto(Buffer.from([0x0a]))).toThrow('malformed protobuf ExportLogsServiceRequest: truncated varint at byte 1');
    expect(() => decodeOtlpProto(Buffer.from([0x0b]))).toThrow('malformed protobuf ExportLogsServiceRequest: unsupported wire type 3 at byte 1');
    expect(() => decodeOtlpProto(Buffer.from([0x00]))).toThrow('malformed protobuf ExportLogsServiceRequest: field number 0 at byte 1');
    const shortTrace = encodeOtlpRequest({ resource_logs: [{ scope_logs: [{ log_records: [{ trace_id: Buffer.from([1, 2, 3]) }] }] }] });
    expect(() => decodeOtlpProto(shortTrace)).toThrow(/trace_id of 3 bytes \(a trace id is 16 bytes\)/);
  });

  it('refuse values nested past 64 levels instead of recursing without bound', () => {
    // Built by hand: protobufjs refuses to encode nesting this deep.
    const field = (no: number, payload: Buffer) => Buffer.concat([Buffer.from([(no << 3) | 2]), varint(payload.length), payload]);
    let v = field(1, Buffer.from('leaf'));
    for (let i = 0; i < 70; i++) v = field(5, field(1, v));
    const deep = field(1, field(2, field(2, field(5, v))));
    expect(() => decodeOtlpProto(deep)).toThrow(OtlpDecodeError);
    expect(() => decodeOtlpProto(deep)).toThrow(/nested deeper than 64 levels/);
    let j: Record<string, unknown> = { stringValue: 'leaf' };
    for (let i = 0; i < 70; i++) j = { arrayValue: { values: [j] } };
    expect(() => decodeOtlpJson(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: j }] }] }] })))).toThrow(/nested deeper than 64 levels/);
  });

  it('refuse JSON that breaks the OTLP/JSON rules, naming the field', () => {
    const rec = (r: Record<string, unknown>) => Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [r] }] }] }));
    const at = 'invalid OTLP/JSON at resourceLogs[0].scopeLogs[0].logRecords[0]';
    expect(() => decodeOtlpJson(rec({ timeUnixNano: '1.5' }))).toThrow(`${at}.timeUnixNano: expected an integer (a number or a decimal string), got "1.5"`);
    expect(() => decodeOtlpJson(rec({ timeUnixNano: '-1' }))).toThrow(`${at}.timeUnixNano: integer out of range for uint64, got "-1"`);
    expect(() => decodeOtlpJson(rec({ severityNumber: 'SEVERITY_NUMBER_LOUD' }))).toThrow(`${at}.severityNumber: expected a SeverityNumber (0–24 or a name such as SEVERITY_NUMBER_INFO), got "SEVERITY_NUMBER_LOUD"`);
    expect(() => decodeOtlpJson(rec({ spanId: 'a1a2' }))).toThrow(`${at}.spanId: expected a span id of 8 bytes as 16 hex digits, got "a1a2"`);
    expect(() => decodeOtlpJson(rec({ attributes: [{ key: 'a', value: { intValue: 'ten' } }] }))).toThrow(`${at}.attributes[0].value.intValue: expected an integer (a number or a decimal string), got "ten"`);
    expect(() => decodeOtlpJson(rec({ attributes: {} }))).toThrow(`${at}.attributes: expected an array, got {}`);
    expect(() => decodeOtlpJson(rec({ body: { boolValue: 'yes' } }))).toThrow(`${at}.body.boolValue: expected true or false, got "yes"`);
    expect(() => decodeOtlpJson(Buffer.from('[]'))).toThrow('invalid OTLP/JSON at the top level: expected an object, got []');
    expect(() => decodeOtlpJson(Buffer.from('{"resourceLogs":'))).toThrow(/^invalid OTLP\/JSON: /);
  });

  it('read every severity name as its number, and integers given as JSON numbers', () => {
    const sev = (s: unknown) => decodeOtlpJson(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: s }] }] }] })))[0]!.scopeLogs[0]!.logRecords[0]!.severityNumber;
    expect(['SEVERITY_NUMBER_UNSPECIFIED', 'SEVERITY_NUMBER_TRACE', 'SEVERITY_NUMBER_TRACE4', 'SEVERITY_NUMBER_DEBUG2', 'SEVERITY_NUMBER_INFO', 'SEVERITY_NUMBER_WARN3', 'SEVERITY_NUMBER_ERROR', 'SEVERITY_NUMBER_FATAL4', 9, '21'].map(sev)).toEqual([0, 1, 4, 6, 9, 15, 17, 24, 9, 21]);
  });
});
