import { emptyRecord, emptyScope, MAX_VALUE_DEPTH, OtlpDecodeError, OtlpKvList, type OtlpKeyValue, type OtlpLogRecord, type OtlpResourceLogs, type OtlpScopeLogs, type OtlpValue } from './model.js';

/**
 * OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions): lowerCamelCase field names (the original
 * snake_case names are accepted too), trace and span ids as hex, enums as a number or their name, 64-bit
 * integers as a number or a decimal string, bytes as base64. Unknown fields are ignored; null is absent.
 */

type Obj = Record<string, unknown>;

function fail(at: string, what: string, got: unknown): never {
  const shown = JSON.stringify(got) ?? String(got);
  throw new OtlpDecodeError(`invalid OTLP/JSON at ${at}: ${what}, got ${shown.length > 80 ? shown.slice(0, 80) + '…' : shown}`);
}

function field(o: Obj, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined || v === null ? (o[snake] ?? undefined) : v;
}

function obj(at: string, v: unknown): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(at, 'expected an object', v);
  return v as Obj;
}

function list(at: string, v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(at, 'expected an array', v);
  return v;
}

function str(at: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(at, 'expected a string', v);
  return v;
}

const INT = /^-?\d+$/;

function int64(at: string, v: unknown, unsigned: boolean): bigint {
  if (v === undefined || v === null) return 0n;
  let n: bigint;
  if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && INT.test(v)) n = BigInt(v);
  else return fail(at, 'expected an integer (a number or a decimal string)', v);
  if (unsigned ? n < 0n || n >= 1n << 64n : n < -(1n << 63n) || n >= 1n << 63n) fail(at, `integer out of range for ${unsigned ? 'uint64' : 'int64'}`, v);
  return n;
}

function uint32(at: string, v: unknown): number {
  const n = int64(at, v, true);
  if (n > 0xffffffffn) fail(at, 'integer out of range for uint32', v);
  return Number(n);
}

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

function severityNumber(at: string, v: unknown): number {
  if (typeof v === 'string' && v.startsWith('SEVERITY_NUMBER_')) {
    const name = v.slice('SEVERITY_NUMBER_'.length);
    if (name === 'UNSPECIFIED') return 0;
    const m = /^([A-Z]+)([234])?$/.exec(name);
    const level = m ? LEVELS.indexOf(m[1]!) : -1;
    if (level < 0) fail(at, 'expected a SeverityNumber (0–24 or a name such as SEVERITY_NUMBER_INFO)', v);
    return level * 4 + (m![2] ? Number(m![2]) : 1);
  }
  const n = int64(at, v, false);
  if (n < -(1n << 31n) || n >= 1n << 31n) fail(at, 'enum value out of range', v);
  return Number(n);
}

function double(at: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fail(at, 'expected a number', v);
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bytes(at: string, v: unknown): Uint8Array {
  if (typeof v !== 'string' || !BASE64.test(v)) fail(at, 'expected base64 bytes', v);
  return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
}

const HEX = /^[0-9a-fA-F]*$/;

function id(at: string, v: unknown, size: number, what: string): string {
  const s = str(at, v);
  if (s === '') return '';
  if (!HEX.test(s) || s.length !== size * 2) fail(at, `expected a ${what} of ${size} bytes as ${size * 2} hex digits`, v);
  return /^0+$/.test(s) ? '' : s.toLowerCase();
}

function anyValue(at: string, raw: unknown, depth: number): OtlpValue {
  if (depth > MAX_VALUE_DEPTH) fail(at, `values nested deeper than ${MAX_VALUE_DEPTH} levels`, '…');
  const o = obj(at, raw);
  if (!o) return undefined;
  let v: unknown;
  if ((v = field(o, 'stringValue', 'string_value')) !== undefined) return str(`${at}.stringValue`, v);
  if ((v = field(o, 'boolValue', 'bool_value')) !== undefined) {
    if (typeof v !== 'boolean') fail(`${at}.boolValue`, 'expected true or false', v);
    return v;
  }
  if ((v = field(o, 'intValue', 'int_value')) !== undefined) return int64(`${at}.intValue`, v, false);
  if ((v = field(o, 'doubleValue', 'double_value')) !== undefined) return double(`${at}.doubleValue`, v);
  if ((v = field(o, 'bytesValue', 'bytes_value')) !== undefined) return bytes(`${at}.bytesValue`, v);
  if ((v = field(o, 'arrayValue', 'array_value')) !== undefined) {
    const a = obj(`${at}.arrayValue`, v)!;
    return list(`${at}.arrayValue.values`, a.values).map((x, i) => anyValue(`${at}.arrayValue.values[${i}]`, x, depth + 1));
  }
  if ((v = field(o, 'kvlistValue', 'kvlist_value')) !== undefined) {
    const kv = obj(`${at}.kvlistValue`, v)!;
    return new OtlpKvList(keyValues(`${at}.kvlistValue.values`, kv.values, depth + 1));
  }
  return undefined;
}

function keyValues(at: string, raw: unknown, depth: number): OtlpKeyValue[] {
  return list(at, raw).map((x, i) => {
    const here = `${at}[${i}]`;
    const o = obj(here, x) ?? {};
    return { key: str(`${here}.key`, o.key), value: anyValue(`${here}.value`, o.value, depth) };
  });
}

function logRecord(at: string, raw: unknown): OtlpLogRecord {
  const o = obj(at, raw) ?? {};
  const rec = emptyRecord();
  rec.timeUnixNano = int64(`${at}.timeUnixNano`, field(o, 'timeUnixNano', 'time_unix_nano'), true);
  rec.observedTimeUnixNano = int64(`${at}.observedTimeUnixNano`, field(o, 'observedTimeUnixNano', 'observed_time_unix_nano'), true);
  const sev = field(o, 'severityNumber', 'severity_number');
  if (sev !== undefined) rec.severityNumber = severityNumber(`${at}.severityNumber`, sev);
  rec.severityText = str(`${at}.severityText`, field(o, 'severityText', 'severity_text'));
  rec.body = anyValue(`${at}.body`, o.body, 1);
  rec.attributes = keyValues(`${at}.attributes`, o.attributes, 1);
  rec.droppedAttributesCount = uint32(`${at}.droppedAttributesCount`, field(o, 'droppedAttributesCount', 'dropped_attributes_count'));
  rec.flags = uint32(`${at}.flags`, o.flags);
  rec.traceId = id(`${at}.traceId`, field(o, 'traceId', 'trace_id'), 16, 'trace id');
  rec.spanId = id(`${at}.spanId`, field(o, 'spanId', 'span_id'), 8, 'span id');
  return rec;
}

function scopeLogs(at: string, raw: unknown): OtlpScopeLogs {
  const o = obj(at, raw) ?? {};
  const scope = emptyScope();
  const s = obj(`${at}.scope`, o.scope);
  if (s) {
    scope.name = str(`${at}.scope.name`, s.name);
    scope.version = str(`${at}.scope.version`, s.version);
    scope.attributes = keyValues(`${at}.scope.attributes`, s.attributes, 1);
    scope.droppedAttributesCount = uint32(`${at}.scope.droppedAttributesCount`, field(s, 'droppedAttributesCount', 'dropped_attributes_count'));
  }
  const records = list(`${at}.logRecords`, field(o, 'logRecords', 'log_records'));
  return { scope, logRecords: records.map((r, i) => logRecord(`${at}.logRecords[${i}]`, r)) };
}

/** Decodes an uncompressed OTLP/JSON ExportLogsServiceRequest. Throws OtlpDecodeError. */
export function decodeOtlpJson(body: Buffer): OtlpResourceLogs[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new OtlpDecodeError(`invalid OTLP/JSON: ${(err as Error).message}`);
  }
  const root = obj('the top level', doc);
  if (!root) throw new OtlpDecodeError('invalid OTLP/JSON: the body is null, expected an ExportLogsServiceRequest object');
  return list('resourceLogs', field(root, 'resourceLogs', 'resource_logs')).map((raw, i) => {
    const at = `resourceLogs[${i}]`;
    const o = obj(at, raw) ?? {};
    const res = obj(`${at}.resource`, o.resource);
    return {
      attributes: res ? keyValues(`${at}.resource.attributes`, res.attributes, 1) : [],
      scopeLogs: list(`${at}.scopeLogs`, field(o, 'scopeLogs', 'scope_logs')).map((s, j) => scopeLogs(`${at}.scopeLogs[${j}]`, s)),
    };
  });
}
