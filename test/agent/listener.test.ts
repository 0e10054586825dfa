import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { NARVI_BIN, removeDir, startServer, tempDir, waitFor, type RunningServer } from '../helpers/server.js';

/**
 * The agent's /metrics and /ready listener when its port is taken or it is turned off. These tests start the
 * agent without agent-process.ts's `--server.http-listen-port 0`, so the agent's defaults are what is tested.
 */

let server: RunningServer;
const dir = tempDir('narvi-agent-listener-');
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

/**
 * Holds `host:port` for the test. If something else already holds it the port is just as taken, which is all
 * these tests need, so that counts too (the agent's default port may well be busy on a developer's machine).
 */
async function holdPort(port: number, host: string): Promise<{ port: number; release(): Promise<void> }> {
  const s: Server = createServer((c) => c.destroy());
  try {
    await new Promise<void>((res, rej) => {
      s.once('error', rej);
      s.listen(port, host, () => res());
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return { port, release: async () => {} };
  }
  return { port: (s.address() as { port: number }).port, release: () => new Promise((r) => s.close(() => r())) };
}

/** TCP ports a process listens on: its socket descriptors matched against the kernel's LISTEN table. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed between readdir and readlink
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, the inode is the 10th column.
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** A `narvi agent` with exactly the given arguments; stdin piped so a test decides when it ends. */
function runAgent(args: string[]) {
  const proc = spawn(process.execPath, [NARVI_BIN, 'agent', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return { proc, exited, output: () => out };
}

/** The exit code, or a kill and null if the agent is still running after `ms` (it should have failed at once). */
async function exitWithin(a: ReturnType<typeof runAgent>, ms = 15_000): Promise<number | null> {
  const timer = setTimeout(() => a.proc.kill('SIGKILL'), ms);
  try {
    return await a.exited;
  } finally {
    clearTimeout(timer);
  }
}

const nonEmptyLines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

describe('agent listener', () => {
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    it(`--stdin ships its input while ${host}:9080 is held by another process`, async () => {
      const held = await holdPort(9080, host);
      try {
        const job = `stdin-busy-${host}`;
        const r = spawnSync(process.execPath, [NARVI_BIN, 'agent', '--stdin', '--client.url', push(), '--label', `job=${job}`], {
          input: 'alpha\nbeta\n',
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/level=(warn|error)/);
        expect(r.stderr).not.toMatch(/msg="listening"/);
        expect(await linesOf(job)).toEqual(['alpha', 'beta']);
      } finally {
        await held.release();
      }
    });
  }

  it('--stdin opens no port by default', async () => {
    const a = runAgent(['--stdin', '--client.url', push(), '--label', 'job=stdin-noport', '--client.batch-wait', '50ms']);
    try {
      a.proc.stdin.write('first\n');
      await waitFor(async () => (await linesOf('stdin-noport')).length === 1, 'first stdin line in the server');
      expect(listeningPorts(a.proc.pid!)).toEqual([]);
      a.proc.stdin.end('second\n');
      expect(await a.exited).toBe(0);
    } finally {
      a.proc.kill('SIGKILL');
    }
    expect(await linesOf('stdin-noport')).toEqual(['first', 'second']);
  });

  it('--stdin with a port that is taken warns once and still ships', async () => {
    const held = await holdPort(0, '127.0.0.1');
    try {
      const r = spawnSync(
        process.execPath,
        [NARVI_BIN, 'agent', '--stdin', '--client.url', push(), '--label', 'job=stdin-clash', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', String(held.port)],
        { input: 'x\ny\n', encoding: 'utf8', timeout: 20_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const warnings = nonEmptyLines(r.stderr).filter((l) => /level=(warn|error)/.test(l));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`cannot serve /metrics and /ready on 127.0.0.1:${held.port}: the address is already in use`);
      expect(warnings[0]).toContain('shipping standard input without them');
      expect(await linesOf('stdin-clash')).toEqual(['x', 'y']);
    } finally {
      await held.release();
    }
  });

  it('a file-tailing agent whose default port 9080 is taken exits 1 with one line naming the address and both keys', async () => {
    const held = await holdPort(9080, '127.0.0.1');
    try {
      writeFileSync(join(dir, 'busy.log'), 'never shipped\n');
      const a = runAgent(['--client.url', push(), '--path', join(dir, 'busy.log'), '--positions.path', join(dir, 'pos-busy.yaml')]);
      const code = await exitWithin(a);
      const lines = nonEmptyLines(a.output());
      expect(code, a.output()).toBe(1);
      expect(lines, a.output()).toHaveLength(1);
      expect(lines[0]).toMatch(/level=error/);
      expect(lines[0]).toContain('cannot serve /metrics and /ready on 0.0.0.0:9080: the address is already in use');
      expect(lines[0]).toContain('server.http_listen_port');
      expect(lines[0]).toContain('server.disable: true');
      expect(lines[0]).not.toMatch(/crashed|\bat .*\.js:\d+/);
    } finally {
      await held.release();
    }
  });

  it('names the configured address when an explicit port is taken', async () => {
    const held = await holdPort(0, '127.0.0.1');
    try {
      const a = runAgent(['--client.url', push(), '--path', join(dir, 'busy.log'), '--positions.path', join(dir, 'pos-busy2.yaml'), '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', String(held.port)]);
      expect(await exitWithin(a)).toBe(1);
      expect(nonEmptyLines(a.output())).toEqual([expect.stringContaining(`cannot serve /metrics and /ready on 127.0.0.1:${held.port}: the address is already in use`)]);
    } finally {
      await held.release();
    }
  });

  it('--server.disable tails files with no listening socket at all, even with 9080 taken', async () => {
    const held = await holdPort(9080, '0.0.0.0');
    const f = join(dir, 'quiet.log');
    writeFileSync(f, 'one\n');
    const a = runAgent(['--client.url', push(), '--path', f, '--label', 'job=disabled', '--positions.path', join(dir, 'pos-quiet.yaml'), '--server.disable', '--client.batch-wait', '50ms', '--tail.poll-interval', '50ms']);
    try {
      await waitFor(async () => (await linesOf('disabled')).length === 1, 'line from a listener-less agent', 20_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${a.output()}`);
      });
      expect(listeningPorts(a.proc.pid!)).toEqual([]);
      expect(a.output()).toMatch(/msg="no \/metrics and \/ready listener \(server\.disable\)"/);
      expect(a.output()).not.toMatch(/msg="listening"/);
      a.proc.kill('SIGTERM');
      expect(await a.exited).toBe(0);
    } finally {
      a.proc.kill('SIGKILL');
      await held.release();
    }
  });

  it('the listening-socket check sees a listener when there is one', async () => {
    const a = runAgent(['--client.url', push(), '--path', join(dir, 'quiet.log'), '--positions.path', join(dir, 'pos-seen.yaml'), '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0']);
    try {
      const url = await waitFor(() => /msg="listening" address=(\S+)/.exec(a.output())?.[1], 'listening line');
      expect(listeningPorts(a.proc.pid!)).toEqual([Number(new URL(url).port)]);
    } finally {
      a.proc.kill('SIGKILL');
      await a.exited;
    }
  });
});
