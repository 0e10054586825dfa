import protobuf from 'protobufjs';

/**
 * The OTLP logs messages (opentelemetry/proto, field numbers are the wire contract) for tests: to build
 * protobuf bodies by hand, independently of narvi's hand-written decoder, and to read its answers.
 */
const SCHEMA = `
syntax = "proto3";
package otlp;
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message LogRecord {
  fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3;
  AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8;
  bytes trace_id = 9; bytes span_id = 10; string event_name = 12;
}
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
message Status { int32 code = 1; string message = 2; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const Request = root.lookupType('otlp.ExportLogsServiceRequest');
const Response = root.lookupType('otlp.ExportLogsServiceResponse');
const Status = root.lookupType('otlp.Status');

/** Encodes a request given with snake_case field names (protobufjs's fromObject: int64/fixed64 as strings, bytes as Buffers). */
export function encodeOtlpRequest(obj: Record<string, unknown>): Buffer {
  return Buffer.from(Request.encode(Request.fromObject(obj)).finish());
}

export function decodeOtlpResponse(buf: Uint8Array): { partial_success?: { rejected_log_records: string; error_message: string } } {
  return Response.toObject(Response.decode(buf), { longs: String, defaults: false }) as never;
}

export function decodeStatus(buf: Uint8Array): { code?: number; message?: string } {
  return Status.toObject(Status.decode(buf)) as never;
}
