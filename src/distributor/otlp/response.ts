import type { OtlpEncoding } from './decode-body.js';

/**
 * OTLP/HTTP answers, in the encoding of the request: an ExportLogsServiceResponse (with `partial_success`
 * only when records were refused) for a 200, a google.rpc.Status for an error.
 */

function varint(n: bigint | number, out: number[]): void {
  let v = BigInt.asUintN(64, BigInt(n));
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function lenField(no: number, payload: Buffer, out: number[]): void {
  varint((no << 3) | 2, out);
  varint(payload.length, out);
  for (const b of payload) out.push(b);
}

export interface PartialSuccess {
  rejectedLogRecords: number;
  errorMessage: string;
}

/** The body of a 200: empty when everything was accepted. */
export function exportResponse(encoding: OtlpEncoding, partial?: PartialSuccess): Buffer {
  if (encoding === 'json') {
    const doc = partial ? { partialSuccess: { rejectedLogRecords: String(partial.rejectedLogRecords), errorMessage: partial.errorMessage } } : {};
    return Buffer.from(JSON.stringify(doc));
  }
  if (!partial) return Buffer.alloc(0);
  const inner: number[] = [];
  varint(1 << 3, inner);
  varint(partial.rejectedLogRecords, inner);
  lenField(2, Buffer.from(partial.errorMessage, 'utf8'), inner);
  const out: number[] = [];
  lenField(1, Buffer.from(inner), out);
  return Buffer.from(out);
}

/** gRPC status codes the answers use. */
export const RPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** A google.rpc.Status body: `code`, `message`, no details. */
export function statusBody(encoding: OtlpEncoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const out: number[] = [];
  varint(1 << 3, out);
  varint(code, out);
  lenField(2, Buffer.from(message, 'utf8'), out);
  return Buffer.from(out);
}

export function contentTypeOf(encoding: OtlpEncoding): string {
  return encoding === 'json' ? 'application/json' : 'application/x-protobuf';
}
