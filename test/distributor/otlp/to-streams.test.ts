import { describe, expect, it } from 'vitest';
import { DEFAULT_OTLP_CONFIG, parseOtlpConfig } from '../../../src/config/otlp-config.js';
import { decodeOtlpJson } from '../../../src/distributor/otlp/decode-json.js';
import { OtlpKvList, type OtlpValue } from '../../../src/distributor/otlp/model.js';
import { otlpLabelName, otlpToStreams } from '../../../src/distributor/otlp/to-streams.js';
import { valueText } from '../../../src/distributor/otlp/value-text.js';

const kv = (entries: [string, OtlpValue][]) => new OtlpKvList(entries.map(([key, value]) => ({ key, value })));

function mapJson(doc: unknown, cfg = DEFAULT_OTLP_CONFIG, now = 5n) {
  const d = otlpToStreams(decodeOtlpJson(Buffer.from(JSON.stringify(doc))), cfg, now, 1000);
  return d.streams.map((s) => ({ labels: { ...s.labels as Record<string, string> }, entries: d.columns.entries(s.from, s.to).map((e) => ({ ts: e.ts, line: e.line.toString(), md: e.metadata ? { ...e.metadata } : undefined })) }));
}

const attr = (key: string, value: Record<string, unknown>) => ({ key, value });

describe('OTLP attribute names', () => {
  it('become label names as Loki writes them', () => {
    expect(['service.name', 'k8s.pod.name', 'http-method', 'a/b c', '1st', '_private', '__meta', 'x', 'ünï', 'a😀b', ''].map(otlpLabelName)).toEqual([
      'service_name',
      'k8s_pod_name',
      'http_method',
      'a_b_c',
      'key_1st',
      'key_private',
      '__meta',
      'x',
      'key_n_',
      'a_b',
      '',
    ]);
  });
});

describe('OTLP values as text', () => {
  it('writes scalars plainly and lists as JSON with sorted keys and HTML escaped, as Go does', () => {
    expect(valueText('a "b"')).toBe('a "b"');
    expect(valueText(true)).toBe('true');
    expect(valueText(-9223372036854775808n)).toBe('-9223372036854775808');
    expect([0.5, 1e21, 1e-7, 100, 123456.789, -0, NaN, Infinity, -Infinity].map(valueText)).toEqual(['0.5', '1e+21', '1e-7', '100', '123456.789', '-0', 'NaN', '+Inf', '-Inf']);
    expect(valueText(new Uint8Array([0, 255, 16]))).toBe('AP8Q');
    expect(valueText(undefined)).toBe('');
    expect(valueText([1n, 'x', [true, undefined], 2.5])).toBe('[1,"x",[true,null],2.5]');
    expect(valueText(kv([['z', 1n], ['a', kv([['y', '<b>&</b>'], ['b', new Uint8Array([1])]])], ['m', [] as OtlpValue[]]]))).toBe('{"a":{"b":"AQ==","y":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"},"m":[],"z":1}');
    expect(valueText(kv([['k', '1'], ['k', '2']]))).toBe('{"k":"2"}');
  });
});

describe('OTLP records as streams', () => {
  it('indexes the default resource attributes, keeps the rest as structured metadata in Loki order, and flattens maps', () => {
    const got = mapJson({
      resourceLogs: [
        {
          resource: {
            attributes: [
              attr('service.name', { stringValue: 'api' }),
              attr('k8s.namespace.name', { stringValue: 'prod' }),
              attr('host.name', { stringValue: 'n1' }),
              attr('deploy', { kvlistValue: { values: [attr('zone', { stringValue: 'a' }), attr('rack.id', { intValue: 7 })] } }),
            ],
          },
          scopeLogs: [
            {
              scope: { name: 'lib', version: '', attributes: [attr('scope.attr', { doubleValue: 1.5 })], droppedAttributesCount: 1 },
              logRecords: [
                {
                  timeUnixNano: '100',
                  observedTimeUnixNano: '200',
                  severityNumber: 5,
                  severityText: 'debug',
                  body: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } },
                  attributes: [attr('user.id', { stringValue: 'u1' }), attr('empty', { stringValue: '' })],
                  droppedAttributesCount: 4,
                  flags: 1,
                  traceId: 'ffffffffffffffffffffffffffffffff',
                  spanId: '0000000000000001',
                },
                { observedTimeUnixNano: '300', body: { doubleValue: 2.25 } },
                {},
              ],
            },
          ],
        },
      ],
    });
    expect(got).toEqual([
      {
        labels: { service_name: 'api', k8s_namespace_name: 'prod' },
        entries: [
          {
            ts: 100n,
            line: '["a",1]',
            md: {
              user_id: 'u1',
              observed_timestamp: '200',
              severity_number: '5',
              severity_text: 'debug',
              dropped_attributes_count: '4',
              flags: '1',
              trace_id: 'ffffffffffffffffffffffffffffffff',
              span_id: '0000000000000001',
              host_name: 'n1',
              deploy_zone: 'a',
              deploy_rack_id: '7',
              scope_attr: '1.5',
              scope_name: 'lib',
              scope_dropped_attributes_count: '1',
            },
          },
          { ts: 300n, line: '2.25', md: { host_name: 'n1', deploy_zone: 'a', deploy_rack_id: '7', scope_attr: '1.5', scope_name: 'lib', scope_dropped_attributes_count: '1' } },
          { ts: 5n, line: '', md: { host_name: 'n1', deploy_zone: 'a', deploy_rack_id: '7', scope_attr: '1.5', scope_name: 'lib', scope_dropped_attributes_count: '1' } },
        ],
      },
    ]);
    // Metadata names keep Loki's order: log attributes, record fields, resource, scope.
    expect(Object.keys(got[0]!.entries[0]!.md!)[0]).toBe('user_id');
  });

  it('names a resource without service.name unknown_service, one stream per resource, none for an empty resource', () => {
    const got = mapJson({
      resourceLogs: [
        { resource: { attributes: [attr('service.name', { stringValue: '' }), attr('cloud.region', { stringValue: 'r1' })] }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' } }] }] },
        { scopeLogs: [{ logRecords: [{ body: { stringValue: 'b' } }] }] },
        { resource: { attributes: [attr('service.name', { stringValue: 'x' })] }, scopeLogs: [] },
      ],
    });
    expect(got.map((s) => [s.labels, s.entries.map((e) => e.line)])).toEqual([
      [{ service_name: 'unknown_service', cloud_region: 'r1' }, ['a']],
      [{ service_name: 'unknown_service' }, ['b']],
    ]);
    expect(got[0]!.entries[0]!.md).toBeUndefined();
  });

  it('follows otlp_config: labels, drops and metadata by name and regex for resource, scope and log attributes', () => {
    const cfg = parseOtlpConfig('t', {
      resource_attributes: { ignore_defaults: true, attributes_config: [{ action: 'index_label', attributes: ['team', 'service.name'] }, { action: 'drop', regex: 'k8s\\..*' }] },
      scope_attributes: [{ action: 'drop', attributes: ['noise'] }],
      log_attributes: [{ action: 'drop', regex: 'secret.*' }],
    });
    const got = mapJson(
      {
        resourceLogs: [
          {
            resource: { attributes: [attr('service.name', { stringValue: 's' }), attr('team', { stringValue: 't' }), attr('k8s.pod.name', { stringValue: 'p' }), attr('service.namespace', { stringValue: 'ns' })] },
            scopeLogs: [{ scope: { attributes: [attr('noise', { stringValue: 'n' }), attr('keep', { stringValue: 'k' })] }, logRecords: [{ timeUnixNano: '1', attributes: [attr('secret', { stringValue: 'x' }), attr('secretive', { stringValue: 'y' }), attr('ok', { stringValue: 'z' })] }] }],
          },
        ],
      },
      cfg,
    );
    expect(got).toEqual([{ labels: { service_name: 's', team: 't' }, entries: [{ ts: 1n, line: '', md: { ok: 'z', service_namespace: 'ns', keep: 'k' } }] }]);
  });

  it('keeps an attribute named __proto__ as an ordinary metadata name', () => {
    const req = decodeOtlpJson(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [attr('__proto__', { stringValue: 'p' }), attr('a', { stringValue: 'b' })] }] }] }] })));
    const d = otlpToStreams(req, DEFAULT_OTLP_CONFIG, 1n, 10);
    const md = d.columns.entries(0, 1)[0]!.metadata!;
    expect(Object.keys(md)).toEqual(['__proto__', 'a']);
    expect(md['__proto__']).toBe('p');
    expect(Object.getPrototypeOf(md)).toBe(Object.prototype);
  });

  it('refuses more records than distributor.max_push_entries', () => {
    const req = decodeOtlpJson(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{}, {}, {}] }] }] })));
    expect(() => otlpToStreams(req, DEFAULT_OTLP_CONFIG, 1n, 2)).toThrow('push carries more than 2 entries, over distributor.max_push_entries (2)');
  });
});
