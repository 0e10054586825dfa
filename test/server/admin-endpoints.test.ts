import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { removeDir, tempDir, testServers, waitFor } from '../helpers/server.js';

const server = testServers();

describe('GET /config', () => {
  it('prints the effective settings as YAML with secrets masked and empty secrets left empty', async () => {
    const dir = tempDir();
    const file = join(dir, 'narvi.yaml');
    writeFileSync(file, ['storage:', '  s3:', '    access_key_id: AKIDPLAIN', '    secret_access_key: hunter2-very-secret', 'limits:', '  max_query_series: 77', ''].join('\n'));
    try {
      const s = await server({ args: ['--config.file', file, '--server.internal-secret', 'shh-internal'] });
      const res = await fetch(`${s.url}/config`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const text = await res.text();
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('shh-internal');
      const cfg = YAML.parse(text) as Record<string, Record<string, unknown>>;
      const s3 = (cfg.storage!.s3 as Record<string, unknown>);
      expect(s3.secret_access_key).toBe('********');
      // An account name is not a secret (as in Loki).
      expect(s3.access_key_id).toBe('AKIDPLAIN');
      expect(cfg.server!.internal_secret).toBe('********');
      expect(cfg.limits!.max_query_series).toBe(77);
      expect(cfg.server!.http_listen_address).toBe('127.0.0.1');
      expect(cfg.storage!.path).toBe(s.dataDir);
    } finally {
      removeDir(dir);
    }
  });

  it('mode=diff prints only what differs from the defaults; mode=defaults the defaults; a bad mode is a 400', async () => {
    const s = await server({ args: ['--limits.max-query-series', '42'], decorations: true });
    const diff = YAML.parse(await (await fetch(`${s.url}/config?mode=diff`)).text()) as Record<string, Record<string, unknown>>;
    // The test harness sets the listen address, port and path; nothing else but the one flag.
    expect(diff).toEqual({
      server: { http_listen_address: '127.0.0.1', http_listen_port: 0 },
      storage: { path: s.dataDir },
      limits: { max_query_series: 42 },
    });
    const defaults = YAML.parse(await (await fetch(`${s.url}/config?mode=defaults`)).text()) as Record<string, Record<string, unknown>>;
    expect(defaults.limits!.max_query_series).toBe(500);
    expect(defaults.server!.http_listen_port).toBe(3100);
    expect(defaults.server!.internal_secret).toBe('');
    const bad = await fetch(`${s.url}/config?mode=everything`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('invalid mode "everything": use mode=diff (settings that differ from the defaults), mode=defaults, or no mode for every setting\n');
  });
});

describe('GET /services', () => {
  it('lists every component the target runs, one "name => state" line each, sorted', async () => {
    const s = await server();
    const res = await fetch(`${s.url}/services`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe(['compactor => Running', 'distributor => Running', 'ingester => Running', 'querier => Running', 'runtime-config => Running', 'server => Running', ''].join('\n'));
  });

  it('a querier target lists only what it runs', async () => {
    const dir = tempDir();
    const ing = await server({ dataDir: dir, args: ['--target', 'ingester'] });
    const q = await server({ dataDir: dir, args: ['--target', 'querier', '--querier.ingesters', ing.url] });
    expect(await (await fetch(`${q.url}/services`)).text()).toBe('querier => Running\nruntime-config => Running\nserver => Running\n');
  });
});

describe('/log_level', () => {
  it('GET answers the level; POST changes it and debug lines appear only after', async () => {
    const s = await server();
    expect(await (await fetch(`${s.url}/log_level`)).json()).toEqual({ message: 'Current log level is info' });
    await fetch(`${s.url}/loki/api/v1/labels`);
    expect(s.output()).not.toContain('level=debug');

    const set = await fetch(`${s.url}/log_level`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'log_level=debug' });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ message: 'Log level set to debug' });
    expect(await (await fetch(`${s.url}/log_level`)).json()).toEqual({ message: 'Current log level is debug' });
    await fetch(`${s.url}/loki/api/v1/labels?x=1`);
    await waitFor(() => /level=debug component=server msg="request" method=GET path=\/loki\/api\/v1\/labels status=200/.test(s.output()), 'a debug request line');

    // Back to warn through the query string: info lines stop too.
    const warn = await fetch(`${s.url}/log_level?log_level=warn`, { method: 'POST' });
    expect(await warn.json()).toEqual({ message: 'Log level set to warn' });
    const before = s.output().length;
    await fetch(`${s.url}/loki/api/v1/labels?after=warn`);
    await fetch(`${s.url}/ready`);
    expect(s.output().slice(before)).not.toContain('after=warn');
    expect(s.output().slice(before)).not.toMatch(/level=(debug|info)/);
  });

  it('refuses a missing or unknown level with 400 and keeps the current one', async () => {
    const s = await server();
    const missing = await fetch(`${s.url}/log_level`, { method: 'POST' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ message: 'missing parameter "log_level": send log_level=debug|info|warn|error as a form field or in the query string' });
    const bad = await fetch(`${s.url}/log_level?log_level=verbose`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: 'invalid log level "verbose": use one of debug, info, warn, error' });
    expect(await (await fetch(`${s.url}/log_level`)).json()).toEqual({ message: 'Current log level is info' });
  });

  it('with auth on, changing it needs the internal secret', async () => {
    const s = await server({ args: ['--auth-enabled', 'true', '--server.internal-secret', 'k'] });
    const denied = await fetch(`${s.url}/log_level?log_level=debug`, { method: 'POST' });
    expect(denied.status).toBe(403);
    const ok = await fetch(`${s.url}/log_level?log_level=debug`, { method: 'POST', headers: { 'x-narvi-internal-secret': 'k' } });
    expect(ok.status).toBe(200);
  });
});

describe('GET /loki/api/v1/status/buildinfo', () => {
  it("answers Loki's keys with narvi's version, an empty goVersion and the Node version", async () => {
    const s = await server();
    const info = (await (await fetch(`${s.url}/loki/api/v1/status/buildinfo`)).json()) as Record<string, string>;
    expect(Object.keys(info).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'nodeVersion', 'revision', 'version']);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.goVersion).toBe('');
    expect(info.nodeVersion).toBe(process.version);
  });
});
