import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { testServers, waitFor } from '../helpers/server.js';

const start = testServers();

async function metric(url: string, re: RegExp): Promise<number> {
  const m = re.exec(await (await fetch(`${url}/metrics`)).text());
  return m ? Number(m[1]) : 0;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...files(p));
    // Each stream's labels object sits beside its chunks.
    else if (n !== 'labels') out.push(p);
  }
  return out;
}

describe('flush loop', () => {
  it('flushes an idle stream’s chunk by itself', async () => {
    const server = await start({ args: ['--ingester.chunk-idle-period', '1s', '--ingester.flush-check-period', '200ms'] });
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'idle' }, values: [[String(nowNs()), 'quiet now']] }]))).status).toBe(204);
    await waitFor(() => metric(server.url, /narvi_ingester_chunks_flushed_total\{reason="idle"\} (\d+)/), 'an idle flush');
    expect(files(join(server.dataDir, 'chunks')).length).toBe(1);
  });

  it('cuts a chunk that has been open longer than max_chunk_age while the stream keeps writing', async () => {
    const server = await start({ args: ['--ingester.max-chunk-age', '1s', '--ingester.flush-check-period', '200ms'] });
    let i = 0;
    await waitFor(async () => {
      expect((await pushJson(server.url, jsonBody([{ stream: { app: 'busy' }, values: [[String(nowNs()), `line ${i++}`]] }]))).status).toBe(204);
      return metric(server.url, /narvi_ingester_chunks_flushed_total\{reason="max_age"\} (\d+)/);
    }, 'a max-age flush');
  });

  it('answers a query over a corrupted chunk with a warning naming the object, and keeps serving', async () => {
    const server = await start();
    const t = nowNs();
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'rot' }, values: [[String(t), 'soon to be damaged']] }]))).status).toBe(204);
    expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
    const [chunk] = files(join(server.dataDir, 'chunks'));
    const buf = readFileSync(chunk!);
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0xff;
    writeFileSync(chunk!, buf);
    const res = await fetch(`${server.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="rot"}')}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { warnings: string[]; data: { result: unknown[] } };
    expect(body.data.result).toEqual([]);
    expect(body.warnings[0]).toContain('corrupt chunk');
    expect(body.warnings[0]).toContain(chunk!.split('/chunks/')[1]!);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });
});
