import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeChunk } from '../../src/chunk/chunk.js';
import { jsonBody, pushJson } from '../helpers/push.js';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { chunkFiles, indexState, runCompactor } from './process-helpers.js';

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

  it('a tenant override expires old lines and a due delete request removes its lines from the chunk files', async () => {
    const dir = (await import('../helpers/server.js')).tempDir();
    const { writeFileSync } = await import('node:fs');
    const overrides = join(dir, 'overrides.yaml');
    // Tenant "short" keeps two days; tenant "long" keeps everything (the global default).
    writeFileSync(overrides, 'overrides:\n  short:\n    retention_period: 48h\n');
    const server = await startServer({
      dataDir: dir,
      args: [
        '--auth_enabled', 'true',
        '--limits.reject-old-samples', 'false',
        '--limits.per-tenant-override-config', overrides,
        '--compactor.compaction-interval', '0s',
        '--compactor.retention-delete-delay', '0s',
        '--compactor.delete-request-cancel-period', '1s',
        '--querier.workers', '1',
      ],
    });
    running.push(server);

    const lines = (tag: string, baseNs: bigint, n: number): [string, string][] =>
      Array.from({ length: n }, (_, i) => [String(baseNs + BigInt(i) * 1_000_000n), `${tag} line ${i}${i % 4 === 0 ? ' secret=hunter2' : ''}`]);
    for (const tenant of ['short', 'long']) {
      // Five days old (past "short"'s retention), then one hour old, as separate flushed chunks.
      for (const [tag, base] of [['old', NOW_NS - 120n * HOUR_NS], ['new', NOW_NS - HOUR_NS]] as const) {
        const res = await pushJson(server.url, jsonBody([{ stream: { app: 'web', tenant_of: tenant }, values: lines(`${tenant} ${tag}`, base, 40) }]), { tenant });
        expect(res.status, res.body).toBe(204);
        const flushed = await fetch(`${server.url}/flush`, { method: 'POST', headers: { 'x-scope-orgid': tenant } });
        expect(flushed.status).toBe(204);
      }
    }
    expect(linesOnDisk(dir)).toHaveLength(160);

    // Queries hide what has expired at once; "long" keeps its old lines.
    expect((await queryLines(server, '{app="web"}', 'short')).every((l) => l.startsWith('short new'))).toBe(true);
    expect(await queryLines(server, '{app="web"}', 'long')).toHaveLength(80);

    // A delete for "long": the secret lines of its new chunk.
    const del = await fetch(`${server.url}/loki/api/v1/delete?${new URLSearchParams({ query: '{app="web"} |= "secret="', start: String(Number((NOW_NS - 2n * HOUR_NS) / 1_000_000_000n)), end: String(Math.floor(Date.now() / 1000)) })}`, { method: 'POST', headers: { 'x-scope-orgid': 'long' } });
    expect(del.status, await del.text()).toBe(204);
    const longLeft = (await queryLines(server, '{app="web"}', 'long'));
    expect(longLeft).toHaveLength(80 - 10);
    expect(longLeft.some((l) => l.startsWith('long new') && l.includes('secret='))).toBe(false);
    expect(longLeft.filter((l) => l.startsWith('long old') && l.includes('secret='))).toHaveLength(10);

    // Past the cancel period, one run removes both from disk.
    await waitFor(async () => {
      const list = (await (await fetch(`${server.url}/loki/api/v1/delete`, { headers: { 'x-scope-orgid': 'long' } })).json()) as { created_at: number }[];
      return Date.now() / 1000 - list[0]!.created_at > 1.2 ? true : null;
    }, 'the delete request to pass its cancel period');
    const { status, report } = await runCompactor(server);
    expect(status).toBe(200);
    expect(report.outcome).toBe('success');

    const disk = linesOnDisk(dir);
    expect(disk.filter((l) => l.startsWith('short old'))).toEqual([]);
    expect(disk.filter((l) => l.startsWith('short new'))).toHaveLength(40);
    expect(disk.filter((l) => l.startsWith('long new'))).toHaveLength(30);
    expect(disk.some((l) => l.startsWith('long new') && l.includes('secret='))).toBe(false);
    expect(disk.filter((l) => l.startsWith('long old'))).toHaveLength(40);
    expect(disk).toHaveLength(40 + 30 + 40);
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
