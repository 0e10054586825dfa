import type { LabelFilterExpr } from '../ast.js';
import { batchFromEntries } from '../../src/model/batch.js';
import type { Labels } from '../../src/model/labels.js';
import { buildPipeline } from '../pipeline.js';

/**
 * The label filters written after `unwrap` (`| unwrap latency | __error__=""`). They run after the
 * conversion, so they see its `__error__`. They are ordinary label-filter stages, run through the real
 * pipeline on a one-entry batch whose stream labels are the sample's labels.
 * Returns the (possibly amended) labels, or undefined when the sample is filtered out.
 */
export function buildPostFilter(filters: LabelFilterExpr[]): ((labels: Labels) => Labels | undefined) | undefined {
  if (filters.length === 0) return undefined;
  const pipeline = buildPipeline(filters.map((expr) => ({ kind: 'label_filter' as const, expr })));
  const batch = batchFromEntries([{ ts: 0n, line: '' }]);
  return (labels) => {
    let out: Labels | undefined;
    pipeline.run(batch, labels, (_i, _line, l) => {
      out = l;
    });
    return out;
  };
}
