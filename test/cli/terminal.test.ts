import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NARVI_BIN, removeDir, startServer, type RunningServer } from '../helpers/server.js';
import { buildDataset, pushDataset } from './dataset.js';
import { cliEnv } from './run-cli.js';

const S = 1_000_000_000n;
let server: RunningServer;
let range: string[];

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs a shell command line and collects what it wrote. */
function shell(cmd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', cmd], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

/** The CLI with stdout and stderr on a real pseudo-terminal (util-linux `script`). */
function inTerminal(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cmd = [process.execPath, NARVI_BIN, ...args].map(sh).join(' ');
  return shell(`script -qec ${sh(cmd)} /dev/null`, { TERM: 'xterm', ...env });
}

beforeAll(async () => {
  server = await startServer();
  const base = (BigInt(Date.now()) / 1000n - 20n * 60n) * S;
  await pushDataset(server.url, buildDataset(base));
  range = ['--from', (base - S).toString(), '--to', (base + 600n * S).toString(), '--timezone', 'UTC', '--addr', server.url];
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe('terminal output', () => {
  it('colours labels by stream and shows read progress when writing to a terminal', async () => {
    const r = await inTerminal(['query', '{env="test", app=~"api|web"}', '--limit', '0', '--batch', '10', ...range]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\u001b\[\d+m\{app="api", level="info"\}\u001b\[0m/);
    expect(r.out).toMatch(/\r\u001b\[Kread \d+ lines, reached /);
  });

  it('honours NO_COLOR even on a terminal', async () => {
    const r = await inTerminal(['query', '{env="test", app=~"api|web"}', '--limit', '5', ...range], { NO_COLOR: '1' });
    expect(r.out).toContain('{app="api", level="info"}');
    expect(r.out).not.toMatch(/\u001b\[\d+m\{/);
  });

  it('ends quietly with exit code 0 when the reader closes the pipe early', async () => {
    const cmd = [process.execPath, NARVI_BIN, 'query', '{env="test"}', '--limit', '0', '--batch', '5', '-o', 'raw', ...range].map(sh).join(' ');
    const r = await shell(`${cmd} | head -n 1; echo "exit=\${PIPESTATUS[0]}"`);
    expect(r.out).toMatch(/^[^\n]+\nexit=0\n$/);
  });
});
