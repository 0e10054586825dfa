import type { PipelineStage } from '../ast.js';

/**
 * The literals every line that survives `stages` must contain: the single-valued `|=` text filters that come
 * before any other stage (later ones may test a rewritten line). A block whose bytes lack one of them
 * holds no wanted line. Empty literals match everything and are left out. Null when there are none.
 */
export function blockNeedles(stages: readonly PipelineStage[]): Buffer[] | null {
  const out: Buffer[] = [];
  for (const s of stages) {
    if (s.kind !== 'line_filter') break;
    // An ip() operand is a range, not text the line must contain.
    if (s.op !== '|=' || s.values.length !== 1 || s.values[0] === '' || s.ip?.[0]) continue;
    out.push(Buffer.from(s.values[0]!, 'utf8'));
  }
  return out.length > 0 ? out : null;
}
