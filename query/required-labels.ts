/**
 * Which labels each parser of a pipeline must extract (Loki's "required labels" hint). A parser that
 * only feeds `sum by (level)` need not materialise request_id, user_id and every other field of every
 * line: the labels a pipeline's consumer reads, plus those later stages read (label filters, renames,
 * keep/drop, unwrap), are all that can influence the result. Templates can read any label, so a
 * line_format or label_format template before the consumer makes every label required again.
 * `__error__` is not a hint matter: parsers always set it.
 */
import type { LabelFilterExpr, PipelineStage } from './ast.js';
import type { RequiredLabels } from './pipeline-types.js';

function filterNames(e: LabelFilterExpr, out: Set<string>): void {
  switch (e.kind) {
    case 'and':
    case 'or':
      filterNames(e.left, out);
      filterNames(e.right, out);
      return;
    case 'string':
      out.add(e.matcher.name);
      return;
    default:
      out.add(e.name);
  }
}

/** The label names a list of label filters reads. */
export function labelFilterNames(filters: LabelFilterExpr[]): Set<string> {
  const out = new Set<string>();
  for (const f of filters) filterNames(f, out);
  return out;
}

/** Whether the stage's behaviour may depend on labels it does not name (templates see all of them). */
function readsAnyLabel(s: PipelineStage): boolean {
  if (s.kind === 'line_format') return true;
  if (s.kind === 'label_format') return s.items.some((it) => it.rename === undefined);
  return false;
}

/** The names a stage reads explicitly. */
function namesRead(s: PipelineStage, out: Set<string>): void {
  switch (s.kind) {
    case 'label_filter':
      filterNames(s.expr, out);
      break;
    case 'label_format':
      for (const it of s.items) {
        if (it.rename !== undefined) out.add(it.rename);
        out.add(it.dst);
      }
      break;
    case 'drop':
    case 'keep':
      for (const it of s.items) out.add(it.name);
      break;
    default:
      break;
  }
}

/**
 * For each stage, the labels that must be right after it for the consumer to see what it would see
 * with every label extracted; null means all. `consumer` is what reads the final label set.
 */
export function requiredAfter(stages: PipelineStage[], consumer: RequiredLabels): RequiredLabels[] {
  const out: RequiredLabels[] = new Array(stages.length);
  let need: Set<string> | null = consumer ? new Set(consumer) : null;
  for (let i = stages.length - 1; i >= 0; i--) {
    out[i] = need ? new Set(need) : null;
    const s = stages[i]!;
    if (need === null) continue;
    if (readsAnyLabel(s)) need = null;
    else namesRead(s, need);
  }
  return out;
}
