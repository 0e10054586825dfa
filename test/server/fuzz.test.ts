/**
 * Fuzzes both doors of a real server process: thousands of random and grammar-mutated LogQL strings with random
 * time and paging parameters against every query endpoint, and push bodies in every framing, damaged. A client's
 * mistake must be a 4xx: any 5xx, a request without an answer in bounded time, or a dead process fails the test,
 * and `/ready` must still answer 200 afterwards. The seed is printed with every failure; replay it with
 * NARVI_FUZZ_SEED=<seed> npx vitest run test/server/fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fuzzParams, fuzzQuery } from '../helpers/logql-fuzz.js';
import { fuzzSeed, Prng } from '../helpers/prng.js';
import { fuzzPush } from '../helpers/push-fuzz.js';
import { suiteServer } from '../helpers/server.js';

const SEED = fuzzSeed();
const QUERIES = 3000;
const PUSHES = 1500;
const TAILS = 150;
const CONCURRENCY = 8;
// Generous for a loaded 2-core machine; a request still unanswered by then counts as a hang.
const ANSWER_WITHIN_MS = 20_000;

// Query workers take every query over flushed chunks, so the fuzz reaches the worker path as well as the head.
const server = suiteServer({ args: ['--querier.worker-min-bytes', '0'] });

interface Failure {
  what: string;
  status: number | string;
  reply: string;
  input: string;
}

function shorten(s: string, max = 300): string {
  return s.length > max ? `${JSON.stringify(s.slice(0, max))}… (${s.length} chars)` : JSON.stringify(s);
}

/**
 * Inputs other parts of issue #10 own are left out of the asserted set: template functions asked for huge outputs
 * (`repeat`, `printf` widths, padding) exhaust memory until the per-query byte budget of point 2 exists.
 */
function ownedElsewhere(q: string): boolean {
  return /(repeat|printf|alignLeft|alignRight|indent|nindent|substr|trunc|%)[^}]*\d{5,}/.test(q);
}

async function runPool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Status → how many answers had it, so a run can show it reached both the accepting and the refusing paths. */
type Tally = Map<number, number>;

/** Sends one request and records it as a failure when it is a 5xx or gets no answer in time. */
async function check(failures: Failure[], tally: Tally, what: string, input: string, url: string, init: RequestInit): Promise<void> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    const text = await res.text();
    tally.set(res.status, (tally.get(res.status) ?? 0) + 1);
    if (res.status >= 500) failures.push({ what, status: res.status, reply: text.slice(0, 300), input: shorten(input) });
  } catch (err) {
    failures.push({ what, status: 'no answer', reply: (err as Error).message, input: shorten(input) });
  }
}

async function assertAlive(failures: Failure[]): Promise<void> {
  const s = server();
  const report = `seed ${SEED} (replay: NARVI_FUZZ_SEED=${SEED}); first failures:\n${JSON.stringify(failures.slice(0, 15), null, 1)}`;
  expect(failures, report).toEqual([]);
  expect(s.proc.exitCode, `server exited; seed ${SEED}\n${s.output().slice(-2000)}`).toBeNull();
  const ready = await fetch(`${s.url}/ready`, { signal: AbortSignal.timeout(5_000) });
  expect(ready.status).toBe(200);
}

const QUERY_ENDPOINTS = [
  'query_range', 'query_range', 'query_range', 'query', 'query', 'series', 'labels', 'label_values', 'index/stats', 'index/volume', 'index/volume_range', 'format_query',
] as const;
const LOG_ENDPOINTS = ['query_range', 'query_range', 'series', 'labels', 'index/stats', 'index/volume'] as const;

/** The request for one query on one endpoint: GET while the URL stays short, else a POSTed form, as clients do. */
function queryRequest(r: Prng, base: string, endpoint: (typeof QUERY_ENDPOINTS)[number], query: string): { url: string; init: RequestInit } {
  const params = new URLSearchParams(fuzzParams(r));
  let path = `/loki/api/v1/${endpoint}`;
  if (endpoint === 'series') params.append(r.chance(0.8) ? 'match[]' : 'match', query);
  else if (endpoint === 'label_values') {
    path = `/loki/api/v1/label/${encodeURIComponent(r.pick(['app', 'level', '__name__', '%', '..', 'é', '']))}/values`;
    params.set('query', query);
  } else params.set('query', query);
  const qs = params.toString();
  if (qs.length < 4000 || endpoint === 'label_values') return { url: `${base}${path}?${qs}`, init: {} };
  return { url: `${base}${path}`, init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: qs } };
}

/**
 * Opens a tail WebSocket and waits for its first frame, its close, or a short while. A refused handshake must be
 * a 4xx and a close must not be 1011 (internal error).
 */
function tailOnce(base: string, query: string, failures: Failure[], tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const url = `${base.replace('http', 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query, limit: '10' })}`;
    const ws = new WebSocket(url, { handshakeTimeout: ANSWER_WITHIN_MS });
    const done = () => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      resolve();
    };
    const timer = setTimeout(() => {
      tally.set(101, (tally.get(101) ?? 0) + 1);
      done();
    }, 500);
    ws.on('unexpected-response', (_req, res) => {
      tally.set(res.statusCode ?? 0, (tally.get(res.statusCode ?? 0) ?? 0) + 1);
      if ((res.statusCode ?? 0) >= 500) failures.push({ what: 'tail handshake', status: res.statusCode ?? 0, reply: '', input: shorten(query) });
      done();
    });
    ws.on('message', () => {
      tally.set(101, (tally.get(101) ?? 0) + 1);
      done();
    });
    ws.on('close', (code, reason) => {
      if (code === 1011) failures.push({ what: 'tail closed with 1011', status: code, reply: reason.toString(), input: shorten(query) });
      done();
    });
    ws.on('error', (err) => {
      failures.push({ what: 'tail socket error', status: 'error', reply: err.message, input: shorten(query) });
      done();
    });
  });
}

describe(`fuzzing both doors (seed ${SEED})`, () => {
  it('push bodies in every framing, valid and damaged, never get a 5xx', { timeout: 180_000 }, async () => {
    const r = new Prng(SEED);
    const pushes = Array.from({ length: PUSHES }, () => fuzzPush(r));
    const failures: Failure[] = [];
    const tally: Tally = new Map();
    const url = `${server().url}/loki/api/v1/push`;
    await runPool(pushes, (p) =>
      check(failures, tally, `push ${p.what} ${JSON.stringify(p.headers)}`, p.body.toString('base64'), url, { method: 'POST', headers: p.headers, body: p.body }),
    );
    await assertAlive(failures);
    // What was accepted flushes to chunks, whatever odd labels and lines it carries; queries then read both.
    const flushed = await fetch(`${server().url}/flush`, { method: 'POST' });
    expect(flushed.status, await flushed.text()).toBeLessThan(300);
    // Not vacuous: plenty of bodies were accepted and plenty refused.
    expect(tally.get(204) ?? 0, JSON.stringify([...tally])).toBeGreaterThan(PUSHES / 10);
    expect(tally.get(400) ?? 0, JSON.stringify([...tally])).toBeGreaterThan(PUSHES / 10);
  });

  it('random and mutated LogQL on every query endpoint never gets a 5xx', { timeout: 180_000 }, async () => {
    const r = new Prng(SEED ^ 0x5eed);
    const base = server().url;
    const requests: { what: string; query: string; url: string; init: RequestInit }[] = [];
    while (requests.length < QUERIES) {
      const query = fuzzQuery(r);
      if (ownedElsewhere(query)) continue;
      // Log queries mostly go where they are allowed, so the run reaches evaluation, not only refusal.
      const endpoint = query.startsWith('{') && r.chance(0.8) ? r.pick(LOG_ENDPOINTS) : r.pick(QUERY_ENDPOINTS);
      const { url, init } = queryRequest(r, base, endpoint, query);
      requests.push({ what: `${init.method ?? 'GET'} ${url.slice(base.length, base.length + 300)}`, query, url, init });
    }
    const failures: Failure[] = [];
    const tally: Tally = new Map();
    await runPool(requests, (q) => check(failures, tally, q.what, q.query, q.url, q.init));
    await assertAlive(failures);
    expect(tally.get(200) ?? 0, JSON.stringify([...tally])).toBeGreaterThan(QUERIES / 20);
    expect(tally.get(400) ?? 0, JSON.stringify([...tally])).toBeGreaterThan(QUERIES / 10);
  });

  it('random and mutated log queries on the tail WebSocket never get a 5xx or an internal-error close', { timeout: 120_000 }, async () => {
    const r = new Prng(SEED ^ 0x7a11);
    const queries: string[] = [];
    while (queries.length < TAILS) {
      const q = fuzzQuery(r);
      // Long queries do not fit a WebSocket URL; the query endpoints above take them by POST.
      if (!ownedElsewhere(q) && q.length < 4000) queries.push(q);
    }
    const failures: Failure[] = [];
    const tally: Tally = new Map();
    await runPool(queries, (q) => tailOnce(server().url, q, failures, tally));
    await assertAlive(failures);
    expect(tally.get(101) ?? 0, JSON.stringify([...tally])).toBeGreaterThan(TAILS / 20);
    expect(tally.get(400) ?? 0, JSON.stringify([...tally])).toBeGreaterThan(TAILS / 10);
  });
});
