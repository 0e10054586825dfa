import { describe, expect, it } from 'vitest';
import { encodeOtlpRequest } from '../helpers/otlp-proto.js';
import { nowNs } from '../helpers/push.js';
import { queryLines } from '../helpers/query-lines.js';
import { serverSlot, startServer, tempDir } from '../helpers/server.js';

/**
 * An OTLP 200 means what a Loki 204 means: the records are in the WAL. Exporters send concurrently and retry a
 * batch whose answer they did not get, so a kill -9 right after the answers, and a resend after the restart,
 * must leave every acknowledged record exactly once.
 */

const slot = serverSlot();

function body(batch: number, records: number, base: bigint): Buffer {
  return encodeOtlpRequest({
    resource_logs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'durable' } }] },
        scope_logs: [
          {
            scope: { name: 'kill' },
            log_records: Array.from({ length: records }, (_, i) => ({
              time_unix_nano: String(base + BigInt(batch * 1000 + i)),
              body: { string_value: `batch ${batch} record ${i}` },
              severity_number: i % 5 === 0 ? 17 : 9,
              attributes: [{ key: 'i', value: { int_value: String(i) } }],
            })),
          },
        ],
      },
    ],
  });
}

const post = (url: string, b: Buffer) => fetch(`${url}/otlp/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: b });

describe('OTLP pushes across a kill -9', () => {
  it('keeps every record answered 200, once, and a resend after the restart is not stored twice', async () => {
    const dataDir = tempDir();
    slot.keep(dataDir);
    // The WAL is all there is: nothing is flushed to chunks before the kill.
    const args = ['--ingester.chunk-idle-period', '1h', '--ingester.max-chunk-age', '1h', '--ingester.flush-check-period', '1h'];
    slot.server = await startServer({ dataDir, args });
    const base = nowNs(-120_000);
    const bodies = Array.from({ length: 16 }, (_, b) => body(b, 50, base));
    const answers = await Promise.all(bodies.map((b) => post(slot.server!.url, b)));
    expect(answers.map((r) => r.status)).toEqual(bodies.map(() => 200));
    await slot.server.kill();

    slot.server = await startServer({ dataDir, args });
    const want = bodies.flatMap((_, b) => Array.from({ length: 50 }, (__, i) => `batch ${b} record ${i}`)).sort();
    expect((await queryLines(slot.server.url, '{service_name="durable"}')).sort()).toEqual(want);

    // The exporter never saw the first answers: it sends everything again.
    const again = await Promise.all(bodies.map((b) => post(slot.server!.url, b)));
    expect(again.map((r) => r.status)).toEqual(bodies.map(() => 200));
    expect((await queryLines(slot.server.url, '{service_name="durable"}')).sort()).toEqual(want);
  });
});
