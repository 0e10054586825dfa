import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { jsonBody, pushJson } from '../helpers/push.js';
import { runCli, startCli, type RunningCli } from './run-cli.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

async function server(opts: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const s = await startServer(opts);
  cleanup.push(async () => removeDir(s.dataDir));
  cleanup.push(() => s.stop());
  return s;
}

function cli(args: string[]): RunningCli {
  const c = startCli(args);
  cleanup.push(() => c.stop());
  return c;
}

/**
 * Pushes numbered lines until stopped, never giving up on one: a push that fails (server stopping, down or
 * restarting) is retried with the same timestamp and lines, which the server de-duplicates if it had them.
 * Every third push carries three lines on one timestamp, so resuming must handle shared timestamps.
 */
function startPusher(url: () => string, labels: Record<string, string>) {
  let stop = false;
  let acked = 0;
  let lastTs = 0n;
  const tsOf = new Map<string, bigint>();
  const done = (async () => {
    let n = 0;
    for (let push = 0; !stop; push++) {
      const count = push % 3 === 2 ? 3 : 1;
      let ts = BigInt(Date.now()) * 1_000_000n;
      if (ts <= lastTs) ts = lastTs + 1n;
      lastTs = ts;
      const values: [string, string][] = [];
      for (let i = 0; i < count; i++) values.push([ts.toString(), `line ${String(n + i).padStart(5, '0')}`]);
      for (;;) {
        try {
          const r = await pushJson(url(), jsonBody([{ stream: labels, values }]));
          if (r.status === 204) break;
        } catch {
          // the server is away; try again
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const [t, l] of values) tsOf.set(l, BigInt(t));
      n += count;
      acked = n;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    acked: () => acked,
    tsOf: (line: string) => tsOf.get(line),
    async stop() {
      stop = true;
      await done;
      return acked;
    },
  };
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `line ${String(i).padStart(5, '0')}`);

/**
 * Every pushed line exactly once, in time order. Lines pushed together share a timestamp, and the order among
 * them is the server's to choose, so order is checked by timestamp.
 */
function expectExactlyOnceInOrder(printed: string[], total: number, tsOf: (line: string) => bigint | undefined): void {
  expect([...printed].sort()).toEqual(expected(total));
  const ts = printed.map((l) => tsOf(l)!);
  const backwards = ts.findIndex((t, i) => i > 0 && t < ts[i - 1]!);
  expect(backwards === -1 ? null : printed.slice(Math.max(0, backwards - 3), backwards + 2)).toBeNull();
}

describe('narvi tail', () => {
  it('prints recent lines, then follows new ones', async () => {
    const s = await server();
    const now = BigInt(Date.now()) * 1_000_000n;
    const old = jsonBody([{ stream: { app: 't' }, values: [[(now - 3000_000_000n).toString(), 'old 1'], [(now - 2000_000_000n).toString(), 'old 2']] }]);
    expect((await pushJson(s.url, old)).status).toBe(204);
    const c = cli(['tail', '{app="t"}', '--addr', s.url, '--since', '1m', '-o', 'raw']);
    await waitFor(() => lines(c.stdout()).length === 2, 'the two past lines');
    const fresh = jsonBody([{ stream: { app: 't' }, values: [[(now + 1n).toString(), 'new 1'], [(now + 2n).toString(), 'new 2']] }]);
    expect((await pushJson(s.url, fresh)).status).toBe(204);
    await waitFor(() => lines(c.stdout()).length === 4, 'the two new lines');
    expect(lines(c.stdout())).toEqual(['old 1', 'old 2', 'new 1', 'new 2']);
    expect(c.stderr()).toBe('');
  });

  it('narvi query --tail follows as well, in the default format', async () => {
    const s = await server();
    const c = cli(['query', '{app="q"}', '--tail', '--addr', s.url, '--timezone', 'UTC']);
    const ts = BigInt(Date.now()) * 1_000_000n;
    expect((await pushJson(s.url, jsonBody([{ stream: { app: 'q' }, values: [[ts.toString(), 'live line']] }]))).status).toBe(204);
    await waitFor(() => c.stdout().includes('live line'), 'the live line');
    expect(c.stdout()).toBe(`${new Date(Number(ts / 1_000_000n)).toISOString()} live line\n`);
  });

  it('refuses a bad query in one line with exit code 1', async () => {
    const s = await server();
    const r = await runCli(['tail', 'sum(rate({app="x"}[1m]))', '--addr', s.url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^narvi tail: (server answered 400 Bad Request|server refused the tail): [^\n]*metric query[^\n]*\n$/);
  });

  it('keeps up with a steady stream of pushes without losing a line', async () => {
    const s = await server();
    const pusher = startPusher(() => s.url, { app: 'steady' });
    const c = cli(['tail', '{app="steady"}', '--addr', s.url, '--since', '1m', '--limit', '1000', '-o', 'raw']);
    await waitFor(() => lines(c.stdout()).length >= 300, '300 lines', 30_000);
    const total = await pusher.stop();
    await waitFor(() => lines(c.stdout()).length >= total, `all ${total} lines`);
    expectExactlyOnceInOrder(lines(c.stdout()), total, pusher.tsOf);
  });

  it('survives a server restart: every pushed line printed exactly once, in order', async () => {
    let s = await server();
    const dataDir = s.dataDir;
    const port = s.port;
    const pusher = startPusher(() => s.url, { app: 'restart' });
    const c = cli(['tail', '{app="restart"}', '--addr', s.url, '--since', '1m', '--limit', '1000', '-o', 'raw']);
    await waitFor(() => lines(c.stdout()).length >= 40, 'forty lines before the restart');

    expect(await s.stop()).toBe(0);
    const printedBeforeRestart = lines(c.stdout()).length;
    await waitFor(() => /tail connection closed/.test(c.stderr()), 'the tail to notice the server went away');
    // The pusher keeps retrying while the server is down; restart on the same data and port.
    s = await server({ dataDir, args: ['--server.http-listen-port', String(port)] });
    expect(s.port).toBe(port);
    await waitFor(() => /reconnected; resuming from /.test(c.stderr()), 'the tail to reconnect', 30_000);
    const ackedAfterRestart = pusher.acked();
    await waitFor(() => pusher.acked() >= ackedAfterRestart + 40, 'forty more lines after the restart');
    const total = await pusher.stop();
    await waitFor(() => lines(c.stdout()).length >= total, `all ${total} lines`, 30_000);
    expectExactlyOnceInOrder(lines(c.stdout()), total, pusher.tsOf);
    expect(total - printedBeforeRestart).toBeGreaterThanOrEqual(40);
  });

  it('survives the server’s tail time limit: reconnects and resumes with exact line accounting', async () => {
    // The server closes every tail after one second; the CLI must reconnect each time without a gap or repeat.
    const s = await server({ args: ['--querier.tail-max-duration', '1s'] });
    const pusher = startPusher(() => s.url, { app: 'limit' });
    const c = cli(['tail', '{app="limit"}', '--addr', s.url, '--since', '1m', '--limit', '1000', '-o', 'raw']);
    await waitFor(() => (c.stderr().match(/reconnected; resuming from /g) ?? []).length >= 3, 'three reconnects after the server closed the tail', 30_000);
    const total = await pusher.stop();
    await waitFor(() => lines(c.stdout()).length >= total, `all ${total} lines`, 30_000);
    expectExactlyOnceInOrder(lines(c.stdout()), total, pusher.tsOf);
  });
});
