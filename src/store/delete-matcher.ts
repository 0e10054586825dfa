/**
 * Which entries a delete request covers: entries of a stream its selector matches, with a timestamp in
 * [start, end] (both ends included, millisecond bounds as Loki keeps them), that its pipeline keeps. Pure:
 * the querier uses it to hide covered lines at once, the compactor to leave them out of rewritten chunks.
 */
import type { Matcher, PipelineStage } from '../../query/ast.js';
import { ParseError } from '../../query/parse-error.js';
import { parseLogSelector } from '../../query/parser.js';
import { buildPipeline } from '../../query/pipeline.js';
import type { Pipeline } from '../../query/pipeline-types.js';
import { compileMatcher } from '../../query/regex.js';
import { lowerBound, sliceBatch, type EntryBatch } from '../model/batch.js';
import type { Labels } from '../model/labels.js';

const NS_PER_MS = 1_000_000n;

/** A delete request as stored and as sent to query workers: plain data that survives structured clone. */
export interface DeleteSpec {
  id: string;
  tenant: string;
  query: string;
  /** Milliseconds since the epoch; entries at start_ms … end_ms (inclusive, to the last nanosecond of end_ms's first) are covered. */
  startMs: number;
  endMs: number;
}

/** A delete request's query is not a log query this server can apply. */
export class DeleteQueryError extends Error {}

/**
 * Checks a delete request's query: a log query (selector, optional line filters, parsers and label
 * filters, as Loki accepts), never a metric query. Returns the parsed selector and pipeline.
 */
export function parseDeleteQuery(query: string): { matchers: Matcher[]; stages: PipelineStage[] } {
  let e;
  try {
    e = parseLogSelector(query);
  } catch (err) {
    if (err instanceof ParseError) throw new DeleteQueryError(`invalid query expression: ${err.message}`);
    throw err;
  }
  try {
    // Bad regexes, templates and patterns only show when the stages are built.
    buildPipeline(e.pipeline);
  } catch (err) {
    throw new DeleteQueryError(`invalid query expression: ${(err as Error).message}`);
  }
  return { matchers: e.matchers, stages: e.pipeline };
}

/** A request ready to test entries with. */
export class CompiledDelete {
  readonly id: string;
  readonly tenant: string;
  /** Inclusive nanosecond bounds. */
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly matches: (labels: Labels) => boolean;
  private readonly stages: PipelineStage[];
  private pipe: Pipeline | null = null;

  constructor(readonly spec: DeleteSpec) {
    const { matchers, stages } = parseDeleteQuery(spec.query);
    this.id = spec.id;
    this.tenant = spec.tenant;
    this.startNs = BigInt(spec.startMs) * NS_PER_MS;
    this.endNs = BigInt(spec.endMs) * NS_PER_MS;
    const tests = matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
    // A missing label reads as "", as in selectors.
    this.matches = (labels) => tests.every((t) => t.test(labels[t.name] ?? ''));
    this.stages = stages;
  }

  /** Whether every entry of a matching stream in the time range is covered (no pipeline to ask). */
  get wholeRange(): boolean {
    return this.stages.length === 0;
  }

  /** Whether [start, end) (exclusive end, as queries ask) meets the request's range. */
  overlaps(start: bigint, end: bigint): boolean {
    return this.startNs < end && this.endNs >= start;
  }

  /**
   * The request's pipeline. Built once and reused: a pipeline run is synchronous, so streams read in
   * turn never share one mid-run.
   */
  pipeline(): Pipeline {
    return (this.pipe ??= buildPipeline(this.stages));
  }
}

/** The requests (already compiled) that touch one stream, ready to remove its covered entries. */
export interface StreamDeletes {
  labels: Labels;
  requests: CompiledDelete[];
}

/**
 * The requests among `requests` that cover some of the stream's entries in [start, end), or null when
 * none does: the common case costs one selector test per request.
 */
export function deletesForStream(labels: Labels, requests: readonly CompiledDelete[], start: bigint, end: bigint): StreamDeletes | null {
  let hit: CompiledDelete[] | null = null;
  for (const r of requests) {
    if (!r.overlaps(start, end) || !r.matches(labels)) continue;
    (hit ??= []).push(r);
  }
  return hit ? { labels, requests: hit } : null;
}

/** Marks (1) the entries of `b` that `sd`'s requests cover; null when none is. */
export function coveredEntries(b: EntryBatch, sd: StreamDeletes): Uint8Array | null {
  let covered: Uint8Array | null = null;
  if (b.count === 0) return null;
  for (const r of sd.requests) {
    const i = lowerBound(b.ts, b.count, r.startNs);
    const j = r.endNs >= b.ts[b.count - 1]! ? b.count : lowerBound(b.ts, b.count, r.endNs + 1n);
    if (j <= i) continue;
    const mask: Uint8Array = (covered ??= new Uint8Array(b.count));
    if (r.wholeRange) {
      mask.fill(1, i, j);
      continue;
    }
    r.pipeline().runEntries(sliceBatch(b, i, j), sd.labels, (k) => {
      mask[i + k] = 1;
    });
  }
  return covered;
}

/** `b` without the entries `sd`'s requests cover (the same batch when none is); null when all are. */
export function withoutCovered(b: EntryBatch, sd: StreamDeletes): EntryBatch | null {
  const covered = coveredEntries(b, sd);
  if (!covered) return b;
  let kept = 0;
  let bytes = 0;
  for (let k = 0; k < b.count; k++) {
    if (covered[k]) continue;
    kept++;
    bytes += b.lineOffsets[k + 1]! - b.lineOffsets[k]!;
  }
  if (kept === b.count) return b;
  if (kept === 0) return null;
  const ts = new BigInt64Array(kept);
  const lineOffsets = new Uint32Array(kept + 1);
  const lines = Buffer.allocUnsafe(bytes);
  const metadata = b.metadata ? new Array<Record<string, string> | null>(kept) : undefined;
  let n = 0;
  let off = 0;
  // Copies runs of kept entries at once: deletes usually remove few lines out of many.
  let k = 0;
  while (k < b.count) {
    if (covered[k]) {
      k++;
      continue;
    }
    let e = k;
    while (e < b.count && !covered[e]) e++;
    const from = b.lineOffsets[k]!;
    const to = b.lineOffsets[e]!;
    b.lines.copy(lines, off, from, to);
    for (let x = k; x < e; x++) {
      ts[n] = b.ts[x]!;
      lineOffsets[n + 1] = off + (b.lineOffsets[x + 1]! - from);
      if (metadata) metadata[n] = b.metadata![x] ?? null;
      n++;
    }
    off += to - from;
    k = e;
  }
  const out: EntryBatch = { count: kept, ts, lineOffsets, lines };
  if (metadata && metadata.some((m) => m !== null)) out.metadata = metadata;
  return out;
}

/**
 * For the compactor: a predicate telling whether one entry of the stream `labels` of `tenant` is covered
 * by any of `requests` (other tenants' requests are ignored), or undefined when none touches the stream —
 * or, given `chunk` (its inclusive time bounds), none touches that chunk — so it is kept as it is.
 */
export function deletePredicateFor(
  tenant: string,
  labels: Labels,
  requests: readonly (DeleteSpec | CompiledDelete)[],
  chunk?: { minTs: bigint; maxTs: bigint },
): ((ts: bigint, line: Buffer, metadata?: Record<string, string> | null) => boolean) | undefined {
  const mine = requests.filter((r) => r.tenant === tenant).map((r) => (r instanceof CompiledDelete ? r : new CompiledDelete(r)));
  const sd = chunk ? deletesForStream(labels, mine, chunk.minTs, chunk.maxTs + 1n) : deletesForStream(labels, mine, -(2n ** 63n), 2n ** 63n - 1n);
  if (!sd) return undefined;
  return (ts, line, metadata) => {
    const batch: EntryBatch = { count: 1, ts: BigInt64Array.of(ts), lineOffsets: Uint32Array.of(0, line.length), lines: line };
    if (metadata && Object.keys(metadata).length > 0) batch.metadata = [metadata];
    return coveredEntries(batch, sd)?.[0] === 1;
  };
}
