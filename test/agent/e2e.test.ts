import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { removeDir, startServer, tempDir, waitFor, type RunningServer } from '../helpers/server.js';
import { freePort, startAgentProcess, type RunningAgentProcess } from './agent-process.js';
import { KubeletSim } from './kubelet-sim.js';

const dirs: string[] = [];
const procs: { kill(): Promise<void> }[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill().catch(() => {});
  for (const d of dirs) removeDir(d);
});

async function sentEntries(agent: RunningAgentProcess): Promise<number> {
  const text = await (await fetch(`${agent.url}/metrics`)).text();
  return Number(/^narvi_agent_sent_entries_total (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('agent end to end', () => {
  it('delivers every line exactly once through rotations, two kill -9s of the agent and a server outage', async () => {
    const root = tempDir('narvi-e2e-pods-');
    const dataDir = tempDir('narvi-e2e-data-');
    const state = tempDir('narvi-e2e-agent-');
    dirs.push(root, dataDir, state);
    const port = await freePort();
    let server: RunningServer = await startServer({ dataDir, args: ['--server.http-listen-port', String(port)] });
    procs.push(server);

    const sim = new KubeletSim(root, { rotateBytes: 64 * 1024, keep: 5, linesPerTick: 4, tickMs: 25 });
    for (let i = 0; i < 18; i++) sim.addPod(i);
    sim.start();

    const agentArgs = [
      '--client.url', `http://127.0.0.1:${port}/loki/api/v1/push`,
      '--kubernetes.pods-root', root,
      '--positions.path', join(state, 'positions.yaml'),
      '--positions.sync-period', '300ms',
      '--target-config.sync-period', '300ms',
      '--tail.poll-interval', '100ms',
      '--client.batch-wait', '200ms',
      '--client.batch-size', '64KB',
      '--client.max-buffered-bytes', '512KB',
      '--client.backoff.min-period', '100ms',
      '--client.backoff.max-period', '1s',
    ];
    const env = { NODE_NAME: 'node-e2e' };
    const agentLogs: string[] = [];
    const serverLogs: string[] = [];
    let agent = await startAgentProcess(agentArgs, { env });
    procs.push(agent);
    const progress = async (n: number, what: string) => {
      const target = sim.totalLines + n;
      await waitFor(() => sim.totalLines >= target, what, 30_000);
    };
    try {
      await waitFor(async () => (await sentEntries(agent)) > 2000, 'first deliveries');

      // kill -9 the agent mid-stream, keep writing (and rotating), restart it.
      await agent.kill();
      agentLogs.push(agent.output());
      await progress(3000, 'writes while the agent is down');
      agent = await startAgentProcess(agentArgs, { env });
      procs.push(agent);
      await waitFor(async () => (await sentEntries(agent)) > 1000, 'deliveries after restart');

      // New pods appear and a container restarts (writes 1.log).
      sim.addPod(18);
      sim.addPod(19);
      sim.restartContainer(3);

      // The server goes away for a while; the agent must hold back, not drop.
      await server.stop();
      serverLogs.push(server.output());
      await progress(6000, 'writes while the server is down');
      server = await startServer({ dataDir, args: ['--server.http-listen-port', String(port)] });
      procs.push(server);
      await progress(2000, 'writes after the server is back');

      // Second kill -9.
      await agent.kill();
      agentLogs.push(agent.output());
      await progress(2000, 'writes while the agent is down again');
      agent = await startAgentProcess(agentArgs, { env });
      procs.push(agent);
      await progress(2000, 'writes at the end');
    } finally {
      sim.stop();
    }

    // Every line written must be in the server exactly once.
    const expected = sim.totalLines;
    let entries: Awaited<ReturnType<typeof readAllEntries>> = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      entries = await readAllEntries(server);
      if (entries.length >= expected || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seen = new Map<string, number>();
    for (const e of entries) {
      const m = /^(pod-\d+) seq=(\d+) /.exec(e.line);
      expect(m, `unexpected line ${e.line}`).not.toBeNull();
      const k = `${m![1]} ${m![2]}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const missing: string[] = [];
    const dup: string[] = [];
    for (const [pod, last] of sim.written) {
      for (let s = 1; s <= last; s++) {
        const c = seen.get(`${pod} ${s}`) ?? 0;
        if (c === 0) missing.push(`${pod} ${s}`);
        if (c > 1) dup.push(`${pod} ${s}`);
      }
    }
    // On failure, show which lines and the processes' own account of what happened.
    const why = () => {
      const dupDetail = dup.slice(0, 3).map((d) => entries.filter((e) => e.line.startsWith(d.replace(' ', ' seq=') + ' ')).map((e) => `${JSON.stringify(e.labels)} ${e.ts}`).join(' | '));
      return `expected ${expected} lines, stored ${entries.length}\nduplicates: ${dupDetail.join('\n')}\n--- agent runs\n${[...agentLogs, agent.output()].map((l) => l.slice(-3000)).join('\n=====\n')}\n--- server runs\n${[...serverLogs, server.output()].map((l) => l.slice(-3000)).join('\n=====\n')}`;
    };
    expect({ missing: missing.slice(0, 20), missingCount: missing.length, dup: dup.slice(0, 20), dupCount: dup.length }, missing.length + dup.length > 0 ? why() : '').toEqual({ missing: [], missingCount: 0, dup: [], dupCount: 0 });
    expect(entries.length).toBe(expected);

    // Labels: path-derived (no API server here), node from NODE_NAME, stream from the CRI record.
    const one = entries.find((e) => e.line.startsWith('pod-4 seq=7 '))!;
    expect(one.labels).toEqual({ namespace: 'ns1', pod: 'pod-4', container: 'app', node: 'node-e2e', job: 'ns1/pod-4', stream: 'stderr' });
    // Runtime-split lines were joined.
    expect(entries.find((e) => e.line.startsWith('pod-4 seq=11 '))!.line).toBe('pod-4 seq=11 some payload to make the line look like a real log line');

    await agent.stop();
    await server.stop();
  }, 120_000);
});
