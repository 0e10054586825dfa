/**
 * Reads a log query over a range page by page, handing each page to the printer as it arrives, so `--limit 0`
 * over a wide range runs in constant memory. Each page asks query_range again from the last printed timestamp
 * (start for forward, end+1ns for backward, since end is exclusive) and drops the entries on that timestamp it
 * already printed. A metric query answers with its whole result on the first request.
 */
import { Boundary } from './boundary.js';
import { CliError } from './errors.js';
import type { HttpClient } from './http.js';
import { entriesOf, type Direction, type LogEntry } from './log-entry.js';
import { RESULT_TYPES, type QueryData, type QueryResponse, type QueryStatsJson } from './loki-types.js';
import type { TimeRange } from './time-range.js';

export interface LogRangeQuery {
  query: string;
  range: TimeRange;
  direction: Direction;
  /** Total entries to print; 0 means all of them. */
  limit: number;
  /** Entries per request. */
  batch: number;
  /** Seconds, for metric queries. */
  step?: string;
  interval?: string;
}

export interface PageSink {
  entries(entries: LogEntry[]): Promise<void>;
  stats?(stats: QueryStatsJson): void;
  /** After a page when another one follows: how many entries so far, and the timestamp reached. */
  progress?(printed: number, reached: bigint): void;
}

export type PagedResult = { kind: 'streams'; printed: number; pages: number } | { kind: 'metric'; data: QueryData };

/** `boundary` lets a caller (the tail, filling a gap after a reconnect) carry what it already printed into the read. */
export async function pageLogQuery(client: HttpClient, q: LogRangeQuery, sink: PageSink, boundary: Boundary = new Boundary(q.direction, 'printed')): Promise<PagedResult> {
  let { start, end } = q.range;
  let printed = 0;
  let pages = 0;
  for (;;) {
    const want = q.limit === 0 ? q.batch : Math.min(q.batch, q.limit - printed);
    // The entries already printed on the boundary come back first; ask for enough to get `want` new ones.
    const request = want + boundary.seenAtBoundary;
    const data = await queryRange(client, { query: q.query, start, end, limit: request, direction: q.direction, step: q.step, interval: q.interval });
    pages++;
    if (data.resultType !== 'streams') {
      if (pages === 1) return { kind: 'metric', data };
      throw new CliError(`query_range answered a ${data.resultType} result to a later page of a log query`);
    }
    if (data.stats) sink.stats?.(data.stats);
    const all = entriesOf(data.result, q.direction);
    const fresh: LogEntry[] = [];
    for (const e of all) {
      if (q.limit !== 0 && printed + fresh.length >= q.limit) break;
      if (boundary.admit(e)) fresh.push(e);
    }
    if (fresh.length > 0) await sink.entries(fresh);
    printed += fresh.length;
    if (q.limit !== 0 && printed >= q.limit) break;
    if (all.length < request) break; // the range holds nothing more
    if (fresh.length === 0 || boundary.ts === null) {
      throw new CliError(`query_range returned ${all.length} entries that were all printed already; the server may be ignoring start/end`);
    }
    if (q.direction === 'forward') start = boundary.ts;
    else end = boundary.ts + 1n;
    if (start >= end) break;
    sink.progress?.(printed, boundary.ts);
  }
  return { kind: 'streams', printed, pages };
}

export interface QueryRangeParams {
  query: string;
  start: bigint;
  end: bigint;
  limit: number;
  direction: Direction;
  step?: string | undefined;
  interval?: string | undefined;
}

export async function queryRange(client: HttpClient, p: QueryRangeParams): Promise<QueryData> {
  const res = await client.getJson<QueryResponse>('/loki/api/v1/query_range', {
    query: p.query,
    start: p.start.toString(),
    end: p.end.toString(),
    limit: String(p.limit),
    direction: p.direction,
    step: p.step,
    interval: p.interval,
  });
  return checkQueryData(res, 'query_range');
}

export function checkQueryData(res: QueryResponse, endpoint: string): QueryData {
  const data = res?.data;
  if (!data || !(RESULT_TYPES as readonly string[]).includes(data.resultType) || data.result == null) {
    throw new CliError(`${endpoint} answered without a data.resultType of ${RESULT_TYPES.join(', ')}; is --addr a narvi or Loki server?`);
  }
  return data;
}
