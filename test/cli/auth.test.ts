import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { runCli } from './run-cli.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ args: ['--auth-enabled', 'true'] });
  const ts = nowNs(-60_000).toString();
  for (const tenant of ['team-a', 'team-b']) {
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 'svc' }, values: [[ts, `hello from ${tenant}`]] }]), { tenant });
    if (r.status !== 204) throw new Error(`push answered ${r.status}: ${r.body}`);
  }
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe('tenants', () => {
  it('--org-id (or NARVI_ORG_ID / LOKI_ORG_ID) picks the tenant', async () => {
    const a = await runCli(['query', '{app="svc"}', '-o', 'raw', '--addr', server.url, '--org-id', 'team-a']);
    expect(a).toEqual({ code: 0, stdout: 'hello from team-a\n', stderr: '' });
    const b = await runCli(['query', '{app="svc"}', '-o', 'raw', '--addr', server.url], { env: { LOKI_ORG_ID: 'team-b' } });
    expect(b.stdout).toBe('hello from team-b\n');
    const c = await runCli(['labels', 'app', '--addr', server.url], { env: { NARVI_ORG_ID: 'team-c', LOKI_ORG_ID: 'team-a' } });
    expect(c).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('without a tenant the server refuses, in one line', async () => {
    const r = await runCli(['query', '{app="svc"}', '--addr', server.url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^narvi query: server answered 401 Unauthorized: [^\n]+\n$/);
  });
});
