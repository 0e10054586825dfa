import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { queryLines } from '../helpers/query-lines.js';
import { removeDir, startServer, tempDir, waitFor, type RunningServer } from '../helpers/server.js';
import { startAgentProcess, type RunningAgentProcess } from './agent-process.js';

const dirs: string[] = [];
let server: RunningServer | undefined;
let agent: RunningAgentProcess | undefined;

afterEach(async () => {
  await agent?.kill();
  await server?.stop();
  agent = undefined;
  server = undefined;
  for (const d of dirs.splice(0)) removeDir(d);
});

describe('a damaged positions file', () => {
  it('neither stops the agent nor skips a file: a cut file with negative and fractional offsets re-reads those files whole', async () => {
    server = await startServer();
    dirs.push(server.dataDir);
    const logs = tempDir('narvi-agent-posdmg-');
    dirs.push(logs);
    const lines: Record<string, string[]> = { a: [], b: [] };
    for (const f of ['a', 'b']) {
      for (let i = 0; i < 50; i++) lines[f]!.push(`file=${f} seq=${i} ${'y'.repeat(30)}`);
      writeFileSync(join(logs, `${f}.log`), lines[f]!.join('\n') + '\n');
    }
    const rec = (f: string, offset: unknown) => {
      const st = statSync(join(logs, `${f}.log`), { bigint: true });
      return JSON.stringify({ path: join(logs, `${f}.log`), dev: st.dev.toString(), ino: st.ino.toString(), offset, done: true });
    };
    // Records an agent never writes (a negative and a fractional offset), in a file cut mid-way.
    const positions = join(logs, 'positions.yaml');
    writeFileSync(positions, `# narvi agent positions\n{"positions":[\n${rec('a', -17)},\n${rec('b', 1000.5)},\n{"path":"/gone","dev":"1","in`);
    agent = await startAgentProcess(['--client.url', `${server.url}/loki/api/v1/push`, '--positions.path', positions, '--path', join(logs, '*.log'), '--label', 'job=posdmg', '--client.batch-wait', '100ms']);
    const all = [...lines.a!, ...lines.b!];
    const got = await waitFor(async () => {
      const l = await queryLines(server!.url, '{job="posdmg"}');
      return l.length >= all.length ? l : null;
    }, 'every line of both files at the server', 30_000);
    expect(new Set(got)).toEqual(new Set(all));
    expect(got.length).toBe(all.length);
    expect(agent.output()).toMatch(/offset that is not a whole number of bytes; reading that file again from its start/);
    expect(agent.output()).toMatch(/positions file is not valid YAML; kept the records that could be read/);
    // Still running, and its next save is a whole file with the true offsets.
    expect(agent.proc.exitCode).toBeNull();
    await waitFor(() => {
      const doc = YAML.parse(readFileSync(positions, 'utf8')) as { positions: { path: string; offset: number }[] };
      const size = statSync(join(logs, 'a.log')).size;
      return doc.positions.some((r) => r.path.endsWith('a.log') && r.offset === size);
    }, 'positions saved with a.log read to its end', 30_000);
  });

  it('starts on `positions: 5` and `positions: {}` and reads the files from their start', async () => {
    server = await startServer();
    dirs.push(server.dataDir);
    const logs = tempDir('narvi-agent-posdmg-');
    dirs.push(logs);
    const lines = Array.from({ length: 20 }, (_, i) => `odd shape seq=${i}`);
    writeFileSync(join(logs, 'c.log'), lines.join('\n') + '\n');
    for (const [k, shape] of ['positions: 5', 'positions: {}'].entries()) {
      const positions = join(logs, `positions-${k}.yaml`);
      writeFileSync(positions, shape + '\n');
      agent = await startAgentProcess(['--client.url', `${server.url}/loki/api/v1/push`, '--positions.path', positions, '--path', join(logs, 'c.log'), '--label', `job=shape${k}`, '--client.batch-wait', '100ms']);
      const got = await waitFor(async () => {
        const l = await queryLines(server!.url, `{job="shape${k}"}`);
        return l.length >= lines.length ? l : null;
      }, `every line with ${shape}`, 30_000);
      expect(got.sort()).toEqual([...lines].sort());
      await agent.kill();
      agent = undefined;
    }
  });
});
