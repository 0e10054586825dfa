/**
 * An OTLP logs export request (opentelemetry/proto/collector/logs/v1) as both decoders hand it to the
 * mapping: only what the mapping reads, whatever the wire encoding was.
 */

/** A key/value list (AnyValue's kvlist_value), told apart from an array value. */
export class OtlpKvList {
  constructor(readonly values: OtlpKeyValue[]) {}
}

/**
 * AnyValue: string, boolean, int64 (bigint), double (number), bytes (Uint8Array), array, key/value list,
 * or undefined when no value is set.
 */
export type OtlpValue = string | boolean | bigint | number | Uint8Array | OtlpValue[] | OtlpKvList | undefined;

export interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

export interface OtlpLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: OtlpValue;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
  flags: number;
  /** Lower-case hex; '' when absent or all zeros. */
  traceId: string;
  spanId: string;
}

export interface OtlpScope {
  name: string;
  version: string;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
}

export interface OtlpScopeLogs {
  scope: OtlpScope;
  logRecords: OtlpLogRecord[];
}

export interface OtlpResourceLogs {
  attributes: OtlpKeyValue[];
  scopeLogs: OtlpScopeLogs[];
}

/** A body that is not a valid export request: a 400 naming what is wrong. */
export class OtlpDecodeError extends Error {}

/** AnyValue nesting deeper than this is refused rather than walked (a hostile body could overflow the stack). */
export const MAX_VALUE_DEPTH = 64;

export function emptyScope(): OtlpScope {
  return { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
}

export function emptyRecord(): OtlpLogRecord {
  return { timeUnixNano: 0n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '', body: undefined, attributes: [], droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '' };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Hex of an id, '' for an all-zero one (OTLP's "no trace"). */
export function idHex(bytes: Uint8Array): string {
  let out = '';
  let zero = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0) zero = false;
    out += HEX[b]!;
  }
  return zero ? '' : out;
}
