import { afterEach, describe, expect, it } from 'vitest';
import { jsonBody, pushJson } from '../helpers/push.js';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

/**
 * GET /loki/api/v1/patterns through real servers: lines of three known shapes pushed at known times over
 * two streams, then patterns and their counts per step checked exactly, in Loki's JSON shape. Patterns
 * are mined per stream (as Loki's are): a shape seen once in a stream stays that literal line there, so
 * each shape here comes at least twice in every stream that has it.
 */

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.kill();
    removeDir(s.dataDir);
  }
});

async function start(args: string[] = [], dataDir?: string): Promise<RunningServer> {
  const s = await startServer({ args: ['--pattern-ingester.enabled=true', ...args], dataDir });
  running.push(s);
  return s;
}

type Value = [string, string, Record<string, string>];

// Half an hour ago, on a whole minute: inside the 3 h the patterns are kept for.
const BASE_MS = Math.floor((Date.now() - 1_800_000) / 60_000) * 60_000;
const BASE_S = BASE_MS / 1000;
const at = (offsetMs: number, line: string, level: string): Value => [String(BigInt(BASE_MS + offsetMs) * 1_000_000n), line, { detected_level: level }];

const A = 'user <_> logged in from <_>';
const B = 'GET <_> 200 <_>';
const C = 'level=error msg="db timeout" attempt=<_>';

async function pushShapes(url: string): Promise<void> {
  const body = jsonBody([
    {
      stream: { job: 'web', app: 'a' },
      values: [
        at(5_000, 'user alice logged in from 10.0.0.1', 'info'),
        at(6_000, 'user bob logged in from 10.0.0.2', 'info'),
        at(125_000, 'level=error msg="db timeout" attempt=1', 'error'),
        at(126_000, 'level=error msg="db timeout" attempt=2', 'error'),
      ],
    },
    {
      stream: { job: 'web', app: 'b' },
      values: [
        at(10_000, 'GET /api/users 200 12ms', 'info'),
        at(65_000, 'user carol logged in from 192.168.1.7', 'info'),
        at(70_000, 'GET /api/orders 200 7ms', 'info'),
        at(71_000, 'GET /api/items 200 30ms', 'info'),
        at(130_000, 'user dave logged in from 10.1.1.1', 'info'),
        at(131_000, 'user erin logged in from 10.1.1.2', 'info'),
        at(139_999, 'user frank logged in from 10.1.1.3', 'info'),
      ],
    },
    // Not matched by {job="web"}.
    { stream: { job: 'batch' }, values: [at(5_000, 'user zed logged in from 10.9.9.9', 'info'), at(6_000, 'user yan logged in from 10.9.9.8', 'info')] },
  ]);
  const r = await pushJson(url, body);
  expect(r.status, r.body).toBe(204);
}

async function patterns(url: string, params: Record<string, string>): Promise<{ status: number; body: string; json?: unknown }> {
  const res = await fetch(`${url}/loki/api/v1/patterns?${new URLSearchParams(params)}`);
  const body = await res.text();
  return { status: res.status, body, json: res.status === 200 ? JSON.parse(body) : undefined };
}

const range = (fromMs: number, toMs: number, step?: string) => ({ query: '{job="web"}', start: String(BASE_S + fromMs / 1000), end: String(BASE_S + toMs / 1000), ...(step ? { step } : {}) });

describe('GET /loki/api/v1/patterns', () => {
  it('answers the patterns of the matching streams with their counts per step, most frequent first', async () => {
    const s = await start();
    await pushShapes(s.url);

    expect((await patterns(s.url, range(0, 180_000, '60s'))).json).toEqual({
      status: 'success',
      data: [
        { pattern: A, level: 'info', samples: [[BASE_S, 2], [BASE_S + 60, 1], [BASE_S + 120, 3]] },
        { pattern: B, level: 'info', samples: [[BASE_S, 1], [BASE_S + 60, 2]] },
        { pattern: C, level: 'error', samples: [[BASE_S + 120, 2]] },
      ],
    });

    // Per 10 s (the finest resolution), and a narrower [start, end): end is exclusive.
    expect((await patterns(s.url, range(0, 180_000, '10s'))).json).toEqual({
      status: 'success',
      data: [
        { pattern: A, level: 'info', samples: [[BASE_S, 2], [BASE_S + 60, 1], [BASE_S + 130, 3]] },
        { pattern: B, level: 'info', samples: [[BASE_S + 10, 1], [BASE_S + 70, 2]] },
        { pattern: C, level: 'error', samples: [[BASE_S + 120, 2]] },
      ],
    });
    expect((await patterns(s.url, range(60_000, 120_000, '1m'))).json).toEqual({
      status: 'success',
      data: [
        { pattern: B, level: 'info', samples: [[BASE_S + 60, 2]] },
        { pattern: A, level: 'info', samples: [[BASE_S + 60, 1]] },
      ],
    });
    // A step under 10 s (the default over 3 minutes is 1 s) is taken as 10 s; a POST form works too.
    expect((await patterns(s.url, range(0, 180_000, '1s'))).json).toEqual((await patterns(s.url, range(0, 180_000, '10s'))).json);
    const post = await fetch(`${s.url}/loki/api/v1/patterns`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(range(0, 180_000)) });
    expect(await post.json()).toEqual((await patterns(s.url, range(0, 180_000, '10s'))).json);

    // One stream only, and a selector with no stream.
    expect((await patterns(s.url, { ...range(0, 180_000, '60s'), query: '{app="b"}' })).json).toEqual({
      status: 'success',
      data: [
        { pattern: A, level: 'info', samples: [[BASE_S + 60, 1], [BASE_S + 120, 3]] },
        { pattern: B, level: 'info', samples: [[BASE_S, 1], [BASE_S + 60, 2]] },
      ],
    });
    expect((await patterns(s.url, { ...range(0, 180_000, '60s'), query: '{job="none"}' })).json).toEqual({ status: 'success', data: [] });

    // What the miner holds: 3 streams; A and C in app a, A and B in app b, A in batch; all 13 lines (4 + 7 + 2) mined.
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^narvi_pattern_ingester_streams 3$/m);
    expect(metrics).toMatch(/^narvi_pattern_ingester_patterns 5$/m);
    expect(metrics).toMatch(/^narvi_pattern_ingester_lines_total 13$/m);
    expect(metrics).toMatch(/^narvi_pattern_ingester_lines_skipped_total 0$/m);
  });

  it('keeps tenants apart when auth is enabled', async () => {
    const s = await start(['--auth-enabled']);
    const body = jsonBody([{ stream: { job: 'web' }, values: [at(5_000, 'user alice logged in from 10.0.0.1', 'info'), at(6_000, 'user bob logged in from 10.0.0.2', 'info')] }]);
    const r = await pushJson(s.url, body, { tenant: 'team-a' });
    expect(r.status, r.body).toBe(204);
    const ask = async (tenant: string) => (await fetch(`${s.url}/loki/api/v1/patterns?${new URLSearchParams(range(0, 180_000, '60s'))}`, { headers: { 'x-scope-orgid': tenant } })).json();
    expect(await ask('team-a')).toEqual({ status: 'success', data: [{ pattern: A, level: 'info', samples: [[BASE_S, 2]] }] });
    expect(await ask('team-b')).toEqual({ status: 'success', data: [] });
    expect((await fetch(`${s.url}/loki/api/v1/patterns?${new URLSearchParams(range(0, 180_000, '60s'))}`)).status).toBe(401);
  });

  it('refuses bad parameters with 400 and a message naming them', async () => {
    const s = await start();
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /missing parameter "query"/],
      [{ query: '{job=' }, /parse error/],
      [{ query: '{job="web"} |= "x"' }, /only label matchers are supported/],
      [{ query: '{job="web"}', step: 'abc' }, /invalid parameter "step"/],
      [{ query: '{job="web"}', step: '0' }, /zero or negative query resolution step/],
      [{ query: '{job="web"}', start: 'yesterday' }, /invalid parameter "start"/],
      [{ query: '{job="web"}', start: '2000', end: '1000' }, /end timestamp must not be before start time/],
    ];
    for (const [params, message] of cases) {
      const r = await patterns(s.url, params);
      expect(r.status, JSON.stringify(params)).toBe(400);
      expect(r.body).toMatch(message);
    }
  });

  it('answers 404 as Loki does without a pattern ingester when pattern_ingester.enabled is false (the default)', async () => {
    for (const args of [[], ['--pattern-ingester.enabled=false']]) {
      const s = await startServer({ args });
      running.push(s);
      await pushShapes(s.url);
      const r = await patterns(s.url, range(0, 180_000, '60s'));
      expect(r.status).toBe(404);
      expect(r.body).toContain('pattern_ingester.enabled');
    }
  });

  it('reads the ingesters from a querier in another process', async () => {
    const ingester = await start(['--target', 'ingester']);
    const distributor = await start(['--target', 'distributor', '--distributor.ingesters', ingester.url]);
    const querier = await startServer({ dataDir: ingester.dataDir, args: ['--pattern-ingester.enabled=true', '--target', 'querier', '--querier.ingesters', ingester.url] });
    // Shares the ingester's data directory: stopped here, not removed twice.
    try {
      await pushShapes(distributor.url);
      expect((await patterns(querier.url, range(0, 180_000, '60s'))).json).toEqual({
        status: 'success',
        data: [
          { pattern: A, level: 'info', samples: [[BASE_S, 2], [BASE_S + 60, 1], [BASE_S + 120, 3]] },
          { pattern: B, level: 'info', samples: [[BASE_S, 1], [BASE_S + 60, 2]] },
          { pattern: C, level: 'error', samples: [[BASE_S + 120, 2]] },
        ],
      });
      // The ingester's internal door checks what it is asked.
      const ask = (body: string, tenant = 'fake') => fetch(`${ingester.url}/internal/ingester/patterns`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-scope-orgid': tenant }, body });
      const good = { matchers: [{ name: 'job', op: '=', value: 'web' }], start: BASE_MS, end: BASE_MS + 180_000, step: 60_000 };
      const ok = await ask(JSON.stringify(good));
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { series: { pattern: string; samples: number[][] }[] }).series[0]).toEqual({ pattern: A, level: 'info', samples: [[BASE_MS, 2], [BASE_MS + 60_000, 1], [BASE_MS + 120_000, 3]] });
      const bad: [string, RegExp][] = [
        ['{', /malformed internal patterns query/],
        [JSON.stringify({ ...good, matchers: [{ name: 'job', op: '==', value: 'x' }] }), /each matcher is/],
        [JSON.stringify({ ...good, step: 0 }), /"step" must be more than 0/],
        [JSON.stringify({ ...good, start: '1' }), /"start" must be an integer number of milliseconds/],
        [JSON.stringify({ ...good, tenant: 'other' }), /must be the same/],
      ];
      for (const [body, message] of bad) {
        const r = await ask(body);
        expect(r.status, body).toBe(400);
        expect(await r.text()).toMatch(message);
      }
    } finally {
      await querier.kill();
    }
  });
});
