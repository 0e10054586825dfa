import { describe, expect, it } from 'vitest';
import type { PipelineStage } from '../../query/ast.js';
import { buildPipeline } from '../../query/pipeline.js';
import { batchFromEntries, type EntryBatch } from '../../src/model/batch.js';
import type { Labels } from '../../src/model/labels.js';

const STREAM: Labels = { app: 'checkout', env: 'prod' };

function collect(stages: PipelineStage[], batch: EntryBatch, stream: Labels = STREAM) {
  const out: { index: number; line: string; labels: Labels }[] = [];
  buildPipeline(stages).run(batch, stream, (index, line, labels) => out.push({ index, line, labels }));
  return out;
}

const BATCH = batchFromEntries([
  { ts: 1_000n, line: '{"level":"info","msg":"order placed","status":200,"took":"12ms","user":{"id":"u1"}}' },
  { ts: 2_000n, line: '{"level":"error","msg":"payment declined","status":402,"took":"350ms","user":{"id":"u2"}}' },
  { ts: 3_000n, line: 'plain text error without json' },
  { ts: 4_000n, line: '{"level":"error","msg":"db timeout","status":504,"took":"2.5s","user":{"id":"u3"}}' },
  { ts: 5_000n, line: '{"level":"warn","msg":"slow","status":"n/a","took":"900ms"}' },
]);

describe('pipeline', () => {
  it('runs one entry at a time exactly as over the batch, line filters included', () => {
    const cases: PipelineStage[][] = [
      [{ kind: 'line_filter', op: '|=', values: ['error'] }, { kind: 'json', params: [] }],
      [{ kind: 'json', params: [] }, { kind: 'label_filter', expr: { kind: 'string', matcher: { name: '__error__', op: '=', value: '' } } }],
      [{ kind: 'json', params: [] }],
    ];
    for (const stages of cases) {
      const p = buildPipeline(stages, new Set(['level']));
      const whole: unknown[] = [];
      p.runEntries(BATCH, STREAM, (i, e) => whole.push([i, e.line, e.labels()]));
      const single: unknown[] = [];
      for (let i = 0; i < BATCH.count; i++) p.runEntry(BATCH, i, STREAM, (j, e) => single.push([j, e.line, e.labels()]));
      expect(single).toEqual(whole);
      expect(whole.length).toBeGreaterThan(1);
      // A lone parser, alone or before `| __error__=""`, offers its scanner; a line filter first does not.
      expect(p.fieldScanner === null).toBe(stages[0]!.kind === 'line_filter');
    }
  });

  it('chains filter → parser → label filters → formatting over a batch', () => {
    const stages: PipelineStage[] = [
      { kind: 'line_filter', op: '|=', values: ['error', 'warn'] },
      { kind: 'json', params: [] },
      { kind: 'label_filter', expr: { kind: 'duration', name: 'took', op: '>', value: 300_000_000n } },
      { kind: 'label_filter', expr: { kind: 'string', matcher: { name: '__error__', op: '=', value: '' } } },
      { kind: 'line_format', template: '{{ .level | ToUpper }} {{ .status }} {{ .msg }} user={{ .user_id | default "-" }}' },
      { kind: 'label_format', items: [{ dst: 'severity', rename: 'level' }] },
      { kind: 'keep', items: [{ name: 'app' }, { name: 'severity' }, { name: 'status' }] },
    ];
    expect(collect(stages, BATCH)).toEqual([
      { index: 1, line: 'ERROR 402 payment declined user=u2', labels: { app: 'checkout', severity: 'error', status: '402' } },
      { index: 3, line: 'ERROR 504 db timeout user=u3', labels: { app: 'checkout', severity: 'error', status: '504' } },
      { index: 4, line: 'WARN n/a slow user=-', labels: { app: 'checkout', severity: 'warn', status: 'n/a' } },
    ]);
  });

  it('keeps errored entries unless filtered, as Loki does', () => {
    const out = collect([{ kind: 'json', params: [] }, { kind: 'label_filter', expr: { kind: 'number', name: 'status', op: '>=', value: 400 } }], BATCH);
    // Entry 2 failed json and has no status: Loki 3.x drops it (a missing label fails the comparison).
    expect(out.map((o) => [o.index, o.labels.__error__ ?? ''])).toEqual([
      [1, ''],
      [3, ''],
      [4, 'LabelFilterErr'],
    ]);
  });

  it('hands back the very stream object when no stage changes labels', () => {
    const stages: PipelineStage[] = [
      { kind: 'line_filter', op: '|~', values: ['(?i)ERROR'] },
      { kind: 'label_filter', expr: { kind: 'string', matcher: { name: 'env', op: '=', value: 'prod' } } },
      { kind: 'decolorize' },
    ];
    const p = buildPipeline(stages);
    expect(p.preservesLabels).toBe(true);
    const seen: Labels[] = [];
    p.run(BATCH, STREAM, (_i, _l, labels) => seen.push(labels));
    expect(seen.length).toBe(3);
    for (const l of seen) expect(l).toBe(STREAM);
  });

  it('reports preservesLabels false for stages that can change labels', () => {
    const changing: PipelineStage[] = [
      { kind: 'json', params: [] },
      { kind: 'logfmt', strict: false, keepEmpty: false, params: [] },
      { kind: 'unpack' },
      { kind: 'drop', items: [{ name: 'x' }] },
      { kind: 'keep', items: [{ name: 'x' }] },
      { kind: 'label_format', items: [{ dst: 'a', rename: 'b' }] },
      { kind: 'line_format', template: '{{ .x | ToUpper }}' },
      { kind: 'label_filter', expr: { kind: 'number', name: 'x', op: '>', value: 1 } },
    ];
    for (const s of changing) expect(buildPipeline([s]).preservesLabels, s.kind).toBe(false);
    expect(buildPipeline([]).preservesLabels).toBe(true);
  });

  it('still returns the stream object for entries a label-changing stage left untouched', () => {
    const out = collect([{ kind: 'logfmt', strict: false, keepEmpty: false, params: [] }], batchFromEntries([{ ts: 1n, line: '' }, { ts: 2n, line: 'a=1' }]));
    expect(out[0]!.labels).toBe(STREAM);
    expect(out[1]!.labels).toEqual({ ...STREAM, a: '1' });
  });

  it('runs line filters on the rewritten line once a stage rewrites it', () => {
    const stages: PipelineStage[] = [
      { kind: 'line_filter', op: '|=', values: ['"level"'] }, // raw JSON
      { kind: 'json', params: [] },
      { kind: 'line_format', template: '{{.msg}}' },
      { kind: 'line_filter', op: '!~', values: ['^(order|slow)'] }, // formatted text
    ];
    expect(collect(stages, BATCH).map((o) => o.line)).toEqual(['payment declined', 'db timeout']);
  });

  it('merges structured metadata into the labels, where label filters can use it', () => {
    const batch = batchFromEntries([
      { ts: 1n, line: 'a', metadata: { trace_id: 't-1' } },
      { ts: 2n, line: 'b' },
      { ts: 3n, line: 'c', metadata: { trace_id: 't-3' } },
    ]);
    expect(collect([], batch).map((o) => o.labels)).toEqual([{ ...STREAM, trace_id: 't-1' }, STREAM, { ...STREAM, trace_id: 't-3' }]);
    const filtered = collect([{ kind: 'label_filter', expr: { kind: 'string', matcher: { name: 'trace_id', op: '=', value: 't-3' } } }], batch);
    expect(filtered.map((o) => o.line)).toEqual(['c']);
  });

  it('handles empty batches and empty lines', () => {
    expect(collect([{ kind: 'line_filter', op: '|=', values: ['x'] }], batchFromEntries([]))).toEqual([]);
    const out = collect([{ kind: 'line_filter', op: '!=', values: ['x'] }], batchFromEntries([{ ts: 1n, line: '' }, { ts: 2n, line: 'x' }, { ts: 3n, line: '' }]));
    expect(out.map((o) => [o.index, o.line])).toEqual([
      [0, ''],
      [2, ''],
    ]);
  });

  it('can be run again on another batch with the same results', () => {
    const p = buildPipeline([{ kind: 'line_filter', op: '|=', values: ['error'] }, { kind: 'json', params: [] }]);
    const runOnce = () => {
      const out: string[] = [];
      p.run(BATCH, STREAM, (i, _l, labels) => out.push(`${i}:${labels.level ?? labels.__error__}`));
      return out;
    };
    expect(runOnce()).toEqual(['1:error', '2:JSONParserErr', '3:error']);
    expect(runOnce()).toEqual(['1:error', '2:JSONParserErr', '3:error']);
  });

  it('rejects invalid stages at build time', () => {
    expect(() => buildPipeline([{ kind: 'regexp', pattern: '(\\d)' }])).toThrow(/no named capture group/);
    expect(() => buildPipeline([{ kind: 'line_format', template: '{{ nope }}' }])).toThrow(/function "nope" not defined/);
    expect(() => buildPipeline([{ kind: 'line_filter', op: '|~', values: ['(?<=a)b'] }])).toThrow(/lookarounds/);
  });
});
