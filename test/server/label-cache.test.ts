import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nowNs, pushProto } from '../helpers/push.js';
import { suiteServer } from '../helpers/server.js';

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('caches keyed by client input', () => {
  const server = suiteServer();

  it('keeps nothing of 300 pushes refused for a unique 1 MiB label value', async () => {
    const s = server();
    const pid = s.proc.pid!;
    const warm = await pushProto(s.url, [{ labels: '{app="warm"}', entries: [{ ts: nowNs(), line: 'x' }] }]);
    expect(warm.status).toBe(204);
    const before = rssBytes(pid);
    const filler = 'v'.repeat(1024 * 1024);
    for (let i = 0; i < 300; i++) {
      const labels = `{app="big", v="${i}-${Math.random()}${filler}"}`;
      const r = await pushProto(s.url, [{ labels, entries: [{ ts: nowNs(), line: 'x' }] }]);
      expect(r.status).toBe(400);
      expect(r.body).toContain('label value too long');
    }
    // 300 MiB of distinct label text went through; a cache that kept it would hold at least that.
    const grown = rssBytes(pid) - before;
    expect(grown, `RSS grew by ${Math.round(grown / 1048576)} MiB`).toBeLessThan(150 * 1024 * 1024);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
  }, 120_000);
});
