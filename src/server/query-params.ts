import { MAX_POINTS_PER_SERIES } from '../../query/eval/steps.js';
import type { QueryParams } from '../../query/engine.js';
import { clampNs, nowNs, parseDuration, parseTimestamp, TimeOutOfRangeError, TimeParseError } from '../model/time.js';
import { BadQueryError } from '../querier/querier.js';
import type { RequestParams } from './request-params.js';

const HOUR = 3_600_000_000_000n;
const SECOND = 1_000_000_000n;

function timeParam(p: RequestParams, name: string, dflt: bigint): bigint {
  const v = p.get(name);
  if (v === undefined) return dflt;
  try {
    return parseTimestamp(v);
  } catch (err) {
    throw new BadQueryError(`invalid parameter "${name}": ${(err as TimeParseError).message}`);
  }
}

export function durationParam(p: RequestParams, name: string): bigint | undefined {
  const v = p.get(name);
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    if (err instanceof TimeOutOfRangeError) throw new BadQueryError(`invalid parameter "${name}": ${err.message}`);
    throw new BadQueryError(`invalid parameter "${name}": ${JSON.stringify(v)} is not a duration (e.g. 30s, 5m, 1h) or a number of seconds`);
  }
}

export function limitParam(p: RequestParams, dflt: number): number {
  const v = p.get('limit');
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new BadQueryError(`invalid parameter "limit": ${JSON.stringify(v)} must be a non-negative integer`);
  return Number(v);
}

function directionParam(p: RequestParams): 'forward' | 'backward' {
  const v = (p.get('direction') ?? 'backward').toLowerCase();
  if (v !== 'forward' && v !== 'backward') throw new BadQueryError(`invalid parameter "direction": ${JSON.stringify(v)} must be forward or backward`);
  return v;
}

export function requireQuery(p: RequestParams): string {
  const q = p.get('query');
  if (q === undefined) throw new BadQueryError('missing parameter "query": a LogQL expression is required');
  return q;
}

/** `start`/`end` (or `since`) of range-style endpoints: defaults end = now, start = end − 1h. */
export function rangeParams(p: RequestParams): { start: bigint; end: bigint } {
  const end = timeParam(p, 'end', nowNs());
  const since = durationParam(p, 'since');
  const start = timeParam(p, 'start', clampNs(end - (since ?? HOUR)));
  if (end < start) throw new BadQueryError('invalid time range: end timestamp must not be before start time');
  return { start, end };
}

/** `query_range` parameters with Loki's defaults and checks. */
export function queryRangeParams(p: RequestParams): QueryParams {
  const { start, end } = rangeParams(p);
  let step = durationParam(p, 'step');
  if (step === undefined) {
    // Loki's default: max(floor(range_seconds / 250), 1) seconds.
    const secs = (end - start) / SECOND / 250n;
    step = (secs > 1n ? secs : 1n) * SECOND;
  }
  if (step <= 0n) throw new BadQueryError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((end - start) / step > BigInt(MAX_POINTS_PER_SERIES)) throw new BadQueryError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  const interval = durationParam(p, 'interval');
  return { start, end, step, interval, direction: directionParam(p), limit: limitParam(p, 100), instant: false };
}

/**
 * A metric range query's start rounded down and end rounded up to whole multiples of the step (counted from
 * the Unix epoch), as Loki's query frontend does to every metric query_range: the samples then fall on the
 * same timestamps whatever the exact start, so panels line up and results can be reused.
 */
export function alignToStep(start: bigint, end: bigint, step: bigint): { start: bigint; end: bigint } {
  if (step <= 0n) return { start, end };
  const alignedStart = start - (((start % step) + step) % step);
  const rem = ((end % step) + step) % step;
  return { start: alignedStart, end: rem === 0n ? end : end + step - rem };
}

/** Instant `query` parameters: `time` defaults to now. */
export function instantParams(p: RequestParams): QueryParams {
  const t = timeParam(p, 'time', nowNs());
  return { start: t, end: t, step: 0n, direction: directionParam(p), limit: limitParam(p, 100), instant: true };
}
