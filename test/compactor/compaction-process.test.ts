import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { chunkFiles, fillSmallChunks, indexState, queryAll, runCompactor } from './process-helpers.js';

const FAST = ['--compactor.compaction-interval', '0s', '--compactor.retention-delete-delay', '0s', '--querier.workers', '1', '--limits.max-entries-limit-per-query', '100000'];

describe('compactor processes on a real store', () => {
  const running: RunningServer[] = [];
  const dirs = new Set<string>();
  afterEach(async () => {
    for (const s of running.splice(0)) await s.kill();
    for (const d of dirs) removeDir(d);
    dirs.clear();
  });
  async function start(opts: Parameters<typeof startServer>[0]): Promise<RunningServer> {
    const s = await startServer(opts);
    running.push(s);
    dirs.add(s.dataDir);
    return s;
  }

  it('merges many small chunks: the same lines and count from query_range, fewer chunk files, no orphans', async () => {
    const server = await start({ args: FAST });
    await fillSmallChunks(server, 12);
    const before = await queryAll(server);
    expect(before.count).toBe(3 * 12 * 40);
    const filesBefore = chunkFiles(server.dataDir);
    expect(filesBefore.length).toBe(3 * 13);

    const { status, report } = await runCompactor(server);
    expect(status).toBe(200);
    expect(report.outcome).toBe('success');
    expect(report.chunksMerged).toBe(3 * 13);
    expect(report.duplicatesDropped).toBe(3 * 20);

    const after = await queryAll(server);
    expect(after.count).toBe(before.count);
    expect(after.lines).toEqual(before.lines);
    const filesAfter = chunkFiles(server.dataDir);
    expect(filesAfter.length).toBe(3);
    const state = indexState(server.dataDir);
    expect(state.refs).toEqual(filesAfter);
    expect(state.pendingWrites + state.pendingDeletes).toBe(0);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/narvi_compactor_runs_total\{outcome="success"\} 1/);
    expect(metrics).toMatch(/narvi_compactor_chunks_merged_total 39/);
    expect(metrics).toMatch(/narvi_compactor_last_successful_run_timestamp_seconds \d/);
    expect(server.output()).toMatch(/compaction run finished.*chunks_merged/);
  });

  for (const point of ['after-write', 'after-index', 'after-delete', 'after-write:3', 'after-delete:7']) {
    it(`survives kill -9 of a compactor process ${point}: no line lost or doubled, and the next run leaves no orphan`, async () => {
      const server = await start({ args: FAST });
      await fillSmallChunks(server, 8);
      const before = await queryAll(server);

      const doomed = await start({ dataDir: server.dataDir, args: ['--target', 'compactor', ...FAST], env: { NARVI_COMPACTOR_CRASH_AT: point } });
      await fetch(`${doomed.url}/compactor/run`, { method: 'POST' }).catch(() => undefined);
      await waitFor(() => doomed.proc.signalCode === 'SIGKILL', 'the compactor to die at its crash point');
      expect(doomed.output()).toContain(`NARVI_COMPACTOR_CRASH_AT=${point.split(':')[0]}`);

      // Right after the crash: queries see every line once.
      const mid = await queryAll(server);
      expect(mid.count).toBe(before.count);
      expect(mid.lines).toEqual(before.lines);

      const clean = await start({ dataDir: server.dataDir, args: ['--target', 'compactor', ...FAST] });
      const { status, report } = await runCompactor(clean);
      expect(status, JSON.stringify(report)).toBe(200);
      const after = await queryAll(server);
      expect(after.count).toBe(before.count);
      expect(after.lines).toEqual(before.lines);
      const state = indexState(server.dataDir);
      expect(chunkFiles(server.dataDir)).toEqual(state.refs);
      expect(state.pendingWrites + state.pendingDeletes).toBe(0);
      expect(state.refs.length).toBe(3);
    });
  }

  it('lets only one of two compactors work on a store at a time, and queries meanwhile see every line once', async () => {
    const server = await start({ args: [...FAST, '--compactor.retention-delete-delay', '1h'] });
    await fillSmallChunks(server, 8);
    const before = await queryAll(server);
    const slow = await start({ dataDir: server.dataDir, args: ['--target', 'compactor', ...FAST, '--compactor.retention-delete-delay', '1h'], env: { NARVI_COMPACTOR_STEP_DELAY_MS: '400' } });
    const other = await start({ dataDir: server.dataDir, args: ['--target', 'backend', ...FAST] });

    const slowRun = runCompactor(slow);
    await waitFor(() => existsSync(join(server.dataDir, 'chunks', '.narvi', 'compactor-lease')), 'the first compactor to take the lease');
    const refused = await runCompactor(other);
    expect(refused.status).toBe(409);
    expect(refused.report.outcome).toBe('skipped');
    expect((refused.report.holder as { pid: number }).pid).toBe(slow.proc.pid);
    // Queries while the slow run swaps refs: old objects stay until the delete delay, so none fails or doubles.
    let queries = 0;
    let done = false;
    void slowRun.finally(() => (done = true));
    while (!done) {
      const mid = await queryAll(server);
      expect(mid.lines).toEqual(before.lines);
      queries++;
    }
    expect(queries).toBeGreaterThan(0);
    const first = await slowRun;
    expect(first.status).toBe(200);
    expect(first.report.chunksMerged).toBe(27);
    // The lease is free again: the other compactor now runs, with nothing left to merge.
    const second = await runCompactor(other);
    expect(second.status).toBe(200);
    expect(second.report.chunksMerged).toBe(0);
    expect((await queryAll(server)).lines).toEqual(before.lines);
    expect(other.output()).toMatch(/compaction skipped: another compactor holds the lease/);
  });

  it('treats POST /compactor/run as an admin action while auth is on', async () => {
    const server = await start({ args: [...FAST, '--auth-enabled', '--server.internal-secret', 's3cret'] });
    const denied = await fetch(`${server.url}/compactor/run`, { method: 'POST', headers: { 'X-Scope-OrgID': 'tenant-a' } });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('POST /compactor/run (an admin action while auth_enabled is true) needs the shared secret');
    const ok = await fetch(`${server.url}/compactor/run`, { method: 'POST', headers: { 'X-Narvi-Internal-Secret': 's3cret' } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { outcome: string }).outcome).toBe('success');
  });
});
