import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { readAllEntries } from '../helpers/store-reader.js';
import { NARVI_BIN, removeDir, startServer, tempDir, waitFor, type RunningServer } from '../helpers/server.js';
import { startAgentProcess } from './agent-process.js';

let server: RunningServer;
const dir = tempDir('narvi-agent-proc-');
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.kill();
  removeDir(server.dataDir);
  removeDir(dir);
});

const push = () => `${server.url}/loki/api/v1/push`;
async function linesOf(job: string): Promise<string[]> {
  return (await readAllEntries(server)).filter((e) => e.labels.job === job).map((e) => e.line);
}

describe('narvi agent process', () => {
  it('tails --path files with --label, serves /ready and /metrics, and saves positions on SIGTERM', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, 'first\nsecond\n');
    const pos = join(dir, 'positions.yaml');
    const agent = await startAgentProcess(['--client.url', push(), '--path', join(dir, '*.log'), '--label', 'job=proc', '--label', 'env=test', '--positions.path', pos, '--client.batch-wait', '100ms', '--tail.poll-interval', '50ms']);
    try {
      await waitFor(async () => (await fetch(`${agent.url}/ready`)).status === 200, '/ready');
      await waitFor(async () => (await linesOf('proc')).length === 2, 'first lines in the server');
      appendFileSync(f, 'third\n');
      await waitFor(async () => (await linesOf('proc')).length === 3, 'appended line in the server');
      const entries = (await readAllEntries(server)).filter((e) => e.labels.job === 'proc');
      expect(entries.map((e) => e.line)).toEqual(['first', 'second', 'third']);
      expect(entries[0]!.labels).toEqual({ job: 'proc', env: 'test', filename: f });
      const metrics = await (await fetch(`${agent.url}/metrics`)).text();
      expect(metrics).toMatch(/^narvi_agent_sent_entries_total 3$/m);
      expect(metrics).toMatch(/^narvi_agent_read_lines_total 3$/m);
      expect(metrics).toMatch(/^narvi_agent_files_active 1$/m);
      expect((await fetch(`${agent.url}/nope`)).status).toBe(404);
    } finally {
      expect(await agent.stop()).toBe(0);
    }
    const saved = YAML.parse(readFileSync(pos, 'utf8')) as { positions: { path: string; offset: number }[] };
    expect(saved.positions).toEqual([expect.objectContaining({ path: f, offset: 19 })]);
    expect(agent.output()).toMatch(/msg="agent stopped" all_sent=true/);
  });

  it('ships standard input with --stdin and exits when it ends', async () => {
    const r = spawnSync(process.execPath, [NARVI_BIN, 'agent', '--stdin', '--client.url', push(), '--label', 'job=stdin-test', '--server.http-listen-port', '0', '--server.http-listen-address', '127.0.0.1'], {
      input: 'one\ntwo\nthree without newline',
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stderr).toMatch(/msg="listening"/);
    expect(r.status).toBe(0);
    expect(await linesOf('stdin-test')).toEqual(['one', 'two', 'three without newline']);
  });

  it('refuses a bad configuration with exit code 2 and a message naming the key', () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'client:\n  url: http://127.0.0.1:1/loki/api/v1/push\n  encoding: xml\n');
    const r = spawnSync(process.execPath, [NARVI_BIN, 'agent', '--config.file', cfg], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration: client\.encoding must be one of protobuf, json, got "xml"/);
  });

  it('applies a YAML config: static target with multiline, docker format, pipeline, tenant header', async () => {
    const logs = join(dir, 'docker');
    mkdirSync(logs, { recursive: true });
    const f = join(logs, 'c.log');
    const rec = (log: string, t: string) => JSON.stringify({ log, stream: 'stdout', time: t }) + '\n';
    writeFileSync(
      f,
      rec('2024-05-01 ERROR boom\n', new Date().toISOString()) +
        rec('  at frame1\n', new Date().toISOString()) +
        rec('2024-05-01 GET /healthz\n', new Date().toISOString()) +
        rec('2024-05-01 INFO fine\n', new Date().toISOString()),
    );
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(
      cfg,
      YAML.stringify({
        client: { url: push(), batch_wait: '100ms', tenant_id: 'fake' },
        positions: { path: join(dir, 'pos-yaml.yaml') },
        tail: { poll_interval: '50ms' },
        static_targets: [{ paths: [join(logs, '*.log')], labels: { job: 'yaml' }, format: 'docker', multiline: { firstline: '^\\d{4}-', max_wait_time: '300ms' } }],
        pipeline: [{ drop: { expression: 'healthz' } }, { static_labels: { team: 'core' } }],
      }),
    );
    const agent = await startAgentProcess(['--config.file', cfg]);
    try {
      await waitFor(async () => (await linesOf('yaml')).length === 2, 'two joined entries').catch(async (e) => { console.log(agent.output(), JSON.stringify(await readAllEntries(server), (_k, v) => typeof v === 'bigint' ? String(v) : v)); throw e; });
      const entries = (await readAllEntries(server)).filter((e) => e.labels.job === 'yaml');
      expect(entries.map((e) => e.line).sort()).toEqual(['2024-05-01 ERROR boom\n  at frame1', '2024-05-01 INFO fine']);
      expect(entries[0]!.labels).toMatchObject({ job: 'yaml', team: 'core', stream: 'stdout' });
      const metrics = await (await fetch(`${agent.url}/metrics`)).text();
      expect(metrics).toMatch(/^narvi_agent_dropped_entries_total\{reason="drop_stage"\} 1$/m);
    } finally {
      await agent.stop();
    }
  });
});
