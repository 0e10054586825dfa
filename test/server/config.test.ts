import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NARVI_BIN, removeDir, testServers, tempDir } from '../helpers/server.js';

const start = testServers();

function runNarvi(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [NARVI_BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
}

describe('narvi server configuration', () => {
  it('refuses unknown settings and bad values with a clear message and exit code 2', () => {
    const unknown = runNarvi(['server', '--server.http-lisen-port', '1']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown setting "server.http_lisen_port"');
    const bad = runNarvi(['server', '--ingester.max-chunk-age', 'soon']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('ingester.max_chunk_age');
    expect(bad.stderr).toContain('invalid duration "soon"');
    const target = runNarvi(['server', '--target', 'everything']);
    expect(target.status).toBe(2);
    expect(target.stderr).toContain('target must be one of all, distributor, ingester, querier');
  });

  it('lists every setting with its default in --help', () => {
    const r = runNarvi(['server', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('server.http_listen_port');
    expect(r.stdout).toContain('--server.http-listen-port  (3100)');
    expect(r.stdout).toContain('storage.path');
    expect(r.stdout).toContain('"./data"');
  });

  it('reads a YAML file, lets the environment override it and flags override both', async () => {
    const dir = tempDir();
    const file = join(dir, 'narvi.yaml');
    writeFileSync(file, 'auth_enabled: true\nlimits:\n  max_label_names_per_series: 3\n  max_line_size: 100B\n');
    const server = await start({
      args: ['--config.file', file, '--limits.max-line-size', '50B'],
      env: { NARVI_LIMITS_MAX_LABEL_NAMES_PER_SERIES: '2' },
    });
    const push = (labels: Record<string, string>, line: string) =>
      fetch(`${server.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-scope-orgid': 't1' },
        body: JSON.stringify({ streams: [{ stream: labels, values: [[String(BigInt(Date.now()) * 1_000_000n), line]] }] }),
      });
    // From the file: auth on, so a missing tenant is refused.
    expect((await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"streams":[]}' })).status).toBe(401);
    // From the environment (overriding the file's 3): two label names at most.
    const labels = await push({ a: '1', b: '2', c: '3' }, 'x');
    expect(labels.status).toBe(400);
    expect(await labels.text()).toContain('has 3 label names; limit 2');
    // From the flag (overriding the file's 100B): 50 bytes at most.
    const line = await push({ a: '1' }, 'y'.repeat(60));
    expect(line.status).toBe(400);
    expect(await line.text()).toContain("Max entry size '50' bytes exceeded");
    removeDir(dir);
  });

  it('reports a YAML file it cannot use', () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  http_listen_port: [1, 2\n');
    const r = runNarvi(['server', '--config.file', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is not valid YAML');
    writeFileSync(file, 'server:\n  nonsense: 1\n');
    const r2 = runNarvi(['server', '--config.file', file]);
    expect(r2.stderr).toContain('unknown setting "server.nonsense"');
    removeDir(dir);
  });
});
