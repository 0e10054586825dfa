import { afterEach, describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.stop();
    removeDir(s.dataDir);
  }
});

describe('--target', () => {
  it('runs distributor and ingester as separate processes: pushes reach the ingester through the distributor', async () => {
    const ingester = await startServer({ args: ['--target', 'ingester'] });
    running.push(ingester);
    const distributor = await startServer({ args: ['--target', 'distributor', '--distributor.ingesters', ingester.url] });
    running.push(distributor);

    const t = nowNs();
    const r = await pushJson(distributor.url, jsonBody([{ stream: { app: 'split' }, values: [[String(t), 'via distributor']] }]));
    expect(r.status).toBe(204);
    // Validation happens in the distributor process.
    const bad = await pushJson(distributor.url, jsonBody([{ stream: { app: 'split' }, values: [['1', 'ancient']] }]));
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('timestamp too old');

    // The ingester does not serve the public push API, and the distributor has no store of its own.
    expect((await pushJson(ingester.url, jsonBody([{ stream: { app: 'x' }, values: [[String(t), 'direct']] }]))).status).toBe(404);
    expect((await fetch(`${distributor.url}/flush`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${ingester.url}/loki/api/v1/labels`)).status).toBe(404);

    expect((await readAllEntries(ingester)).map((e) => e.line)).toEqual(['via distributor']);
  });

  it('refuses a distributor without ingesters, and targets not built yet, with a clear message', async () => {
    await expect(startServer({ args: ['--target', 'distributor'] })).rejects.toThrow(/distributor\.ingesters/);
    await expect(startServer({ args: ['--target', 'query-frontend'] })).rejects.toThrow(/target query-frontend is not available yet/);
  });

  it('runs a querier alone over the store the ingester flushed', async () => {
    const all = await startServer();
    running.push(all);
    const t = nowNs();
    expect((await pushJson(all.url, jsonBody([{ stream: { app: 'q' }, values: [[String(t), 'flushed line']] }]))).status).toBe(204);
    expect((await fetch(`${all.url}/flush`, { method: 'POST' })).status).toBe(204);
    const querier = await startServer({ dataDir: all.dataDir, args: ['--target', 'querier'] });
    running.push({ ...querier, dataDir: '/nonexistent-shared-dir' });
    const res = await fetch(`${querier.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="q"}')}`);
    const body = (await res.json()) as { data: { result: { values: [string, string][] }[] } };
    expect(body.data.result[0]!.values).toEqual([[String(t), 'flushed line']]);
    // A querier accepts no pushes.
    expect((await pushJson(querier.url, jsonBody([{ stream: { app: 'q' }, values: [[String(t), 'x']] }]))).status).toBe(404);
  });

  it('runs distributor, ingester and querier as three processes: unflushed lines are queryable at once', async () => {
    const ingester = await startServer({ args: ['--target', 'ingester'] });
    running.push(ingester);
    const distributor = await startServer({ args: ['--target', 'distributor', '--distributor.ingesters', ingester.url] });
    running.push(distributor);
    // The querier shares the ingester's storage path (index and chunks) and asks it for what is in memory.
    const querier = await startServer({ dataDir: ingester.dataDir, args: ['--target', 'querier', '--querier.ingesters', ingester.url] });
    running.push({ ...querier, dataDir: '/nonexistent-shared-dir' });
    const t = nowNs();
    expect((await pushJson(distributor.url, jsonBody([{ stream: { app: 'three' }, values: [[String(t), 'in memory only']] }]))).status).toBe(204);
    const res = await fetch(`${querier.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="three"}')}`);
    const body = (await res.json()) as { data: { result: { values: [string, string][] }[] } };
    expect(body.data.result[0]!.values).toEqual([[String(t), 'in memory only']]);
    const labels = (await (await fetch(`${querier.url}/loki/api/v1/label/app/values`)).json()) as { data: string[] };
    expect(labels.data).toEqual(['three']);
  });
});
