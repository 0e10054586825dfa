import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeChunk } from '../../src/chunk/chunk.js';
import { jsonBody, pushJson } from '../helpers/push.js';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { chunkFiles, indexState } from './process-helpers.js';

const HOUR_NS = 3_600_000_000_000n;
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

/** Every line stored in the data directory's chunk files, read from disk the way a rebuild would. */
function linesOnDisk(dataDir: string): string[] {
  const out: string[] = [];
  for (const key of chunkFiles(dataDir)) {
    for (const b of decodeChunk(readFileSync(join(dataDir, 'chunks', key)), key)) {
      for (let i = 0; i < b.count; i++) out.push(b.lines.subarray(b.lineOffsets[i]!, b.lineOffsets[i + 1]!).toString());
    }
  }
  return out.sort();
}

async function queryLines(server: RunningServer, query: string, tenant: string): Promise<string[]> {
  const q = new URLSearchParams({ query, start: String(NOW_NS - 30n * 24n * HOUR_NS), end: String(NOW_NS + HOUR_NS), limit: '5000', direction: 'forward' });
  const res = await fetch(`${server.url}/loki/api/v1/query_range?${q}`, { headers: { 'x-scope-orgid': tenant } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: { values: [string, string][] }[] } };
  return body.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
}

describe('retention and delete requests reach the disk through the compactor of a real server', () => {
  const running: RunningServer[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.kill();
      removeDir(s.dataDir);
    }
  });

  it('a tenant override, a stream rule and a due delete request reach the chunk files within a compaction interval', async () => {
    const dir = (await import('../helpers/server.js')).tempDir();
    const { writeFileSync } = await import('node:fs');
    const overrides = join(dir, 'overrides.yaml');
    // Tenant "short" keeps two days; tenant "long" keeps everything (the global default) but its dev streams.
    writeFileSync(overrides, ['overrides:', '  short:', '    retention_period: 48h', '  long:', '    retention_stream:', "      - selector: '{tier=\"dev\"}'", '        priority: 1', '        period: 48h', ''].join('\n'));
    const server = await startServer({
      dataDir: dir,
      args: [
        '--auth_enabled', 'true',
        '--limits.reject-old-samples', 'false',
        '--limits.per-tenant-override-config', overrides,
        '--compactor.compaction-interval', '1s',
        '--compactor.retention-delete-delay', '0s',
        '--compactor.delete-request-cancel-period', '1s',
        '--querier.workers', '1',
      ],
    });
    running.push(server);

    const lines = (tag: string, baseNs: bigint, n: number): [string, string][] =>
      Array.from({ length: n }, (_, i) => [String(baseNs + BigInt(i) * 1_000_000n), `${tag} line ${i}${i % 4 === 0 ? ' secret=hunter2' : ''}`]);
    const streams = [
      { tenant: 'short', name: 'short', labels: { app: 'web', tenant_of: 'short' }, n: 40 },
      { tenant: 'long', name: 'long', labels: { app: 'web', tenant_of: 'long' }, n: 40 },
      { tenant: 'long', name: 'long-dev', labels: { app: 'web', tenant_of: 'long', tier: 'dev' }, n: 20 },
    ];
    // Five days old (past the two days), then one hour old, as separate flushed chunks.
    for (const [tag, base] of [['old', NOW_NS - 120n * HOUR_NS], ['new', NOW_NS - HOUR_NS]] as const) {
      for (const s of streams) {
        const res = await pushJson(server.url, jsonBody([{ stream: s.labels, values: lines(`${s.name} ${tag}`, base, s.n) }]), { tenant: s.tenant });
        expect(res.status, res.body).toBe(204);
      }
      const flushed = await fetch(`${server.url}/flush`, { method: 'POST' });
      expect(flushed.status).toBe(204);
    }
    const before = linesOnDisk(dir);
    expect(before).toHaveLength(200);

    // Queries hide what has expired at once; "long" keeps its old lines but those of its dev stream.
    const short = await queryLines(server, '{app="web"}', 'short');
    expect(short).toHaveLength(40);
    expect(short.every((l) => l.startsWith('short new'))).toBe(true);
    const long = await queryLines(server, '{app="web"}', 'long');
    expect(long).toHaveLength(100);
    expect(long.some((l) => l.startsWith('long-dev old'))).toBe(false);

    // A delete for "long": the secret lines of its new chunks.
    const del = await fetch(`${server.url}/loki/api/v1/delete?${new URLSearchParams({ query: '{app="web"} |= "secret="', start: String(Number((NOW_NS - 2n * HOUR_NS) / 1_000_000_000n)), end: String(Math.floor(Date.now() / 1000)) })}`, { method: 'POST', headers: { 'x-scope-orgid': 'long' } });
    expect(del.status, await del.text()).toBe(204);
    const longLeft = (await queryLines(server, '{app="web"}', 'long'));
    expect(longLeft).toHaveLength(100 - 10 - 5);
    expect(longLeft.some((l) => / new /.test(l) && l.includes('secret='))).toBe(false);
    expect(longLeft.filter((l) => l.startsWith('long old') && l.includes('secret='))).toHaveLength(10);

    // The compactor's own timer (every second) removes all of it from disk once the request is past its
    // cancel period, and marks the request processed.
    await waitFor(async () => {
      const list = (await (await fetch(`${server.url}/loki/api/v1/delete`, { headers: { 'x-scope-orgid': 'long' } })).json()) as { status: string }[];
      return list[0]!.status === 'processed' ? true : null;
    }, 'the delete request to be processed by a compaction run', 60_000);
    const disk = linesOnDisk(dir);
    expect(disk.filter((l) => l.startsWith('short old'))).toEqual([]);
    expect(disk.filter((l) => l.startsWith('short new'))).toHaveLength(40);
    expect(disk.filter((l) => l.startsWith('long new'))).toHaveLength(30);
    expect(disk.some((l) => l.startsWith('long new') && l.includes('secret='))).toBe(false);
    expect(disk.filter((l) => l.startsWith('long old'))).toHaveLength(40);
    expect(disk.filter((l) => l.startsWith('long-dev old'))).toEqual([]);
    expect(disk.filter((l) => l.startsWith('long-dev new'))).toHaveLength(15);
    expect(disk).toHaveLength(40 + 30 + 40 + 15);
    // The index names exactly the files left, and nothing is queued.
    const state = indexState(dir);
    expect(state.refs).toEqual(chunkFiles(dir));
    expect(state.pendingWrites + state.pendingDeletes).toBe(0);

    const list = (await (await fetch(`${server.url}/loki/api/v1/delete`, { headers: { 'x-scope-orgid': 'long' } })).json()) as { status: string }[];
    expect(list.map((r) => r.status)).toEqual(['processed']);
    // Queries answer the same as before the run.
    expect(await queryLines(server, '{app="web"}', 'long')).toEqual(longLeft);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { 'x-scope-orgid': 'long' } })).text();
    expect(metrics).toMatch(/narvi_compactor_chunks_deleted_total [1-9]/);
    expect(metrics).toMatch(/narvi_compactor_chunks_rewritten_total [1-9]/);
  });
});
