/** Runs a pipeline built from AST stages over lines and collects what it emits. */
import type { PipelineStage } from '../../../query/ast.js';
import { buildPipeline } from '../../../query/pipeline.js';
import { batchFromEntries } from '../../../src/model/batch.js';
import type { Labels } from '../../../src/model/labels.js';

export interface Out {
  index: number;
  line: string;
  labels: Labels;
}

export const STREAM: Labels = { app: 'api' };

export function run(stages: PipelineStage[], lines: (string | { line: string; ts?: bigint; metadata?: Record<string, string> })[], stream: Labels = STREAM): Out[] {
  const entries = lines.map((l, i) => (typeof l === 'string' ? { ts: BigInt(i + 1) * 1_000_000_000n, line: l } : { ts: l.ts ?? BigInt(i + 1) * 1_000_000_000n, line: l.line, metadata: l.metadata }));
  const out: Out[] = [];
  buildPipeline(stages).run(batchFromEntries(entries), stream, (index, line, labels) => out.push({ index, line, labels: { ...labels } }));
  return out;
}

/** The labels of a single line after the stages. */
export function labelsOf(stages: PipelineStage[], line: string, stream: Labels = STREAM): Labels | undefined {
  return run(stages, [line], stream)[0]?.labels;
}
