/**
 * Which pipelines can spend unbounded time on a single line. Every regex a query brings (line filters,
 * the regexp parser, label matchers, regexReplaceAll in templates) may backtrack catastrophically, and
 * JavaScript cannot interrupt a running RegExp: such queries are run on worker threads that can be
 * terminated, never on the thread that serves every other request. Everything else costs time linear in
 * the line (templates within their byte budget), so checking the deadline every few lines bounds it.
 */
import type { LabelFilterExpr, Matcher, PipelineStage, RangeAggregationExpr } from './ast.js';
import { regexLiterals } from './regex.js';

function slowMatcher(m: Matcher): boolean {
  return m.op === '=~' || m.op === '!~';
}

function slowLabelFilter(e: LabelFilterExpr): boolean {
  if (e.kind === 'and' || e.kind === 'or') return slowLabelFilter(e.left) || slowLabelFilter(e.right);
  return e.kind === 'string' && slowMatcher(e.matcher);
}

/** A regex line filter that the pipeline runs as a plain substring search costs no regex execution. */
function literalRegex(src: string): boolean {
  try {
    return regexLiterals(src).exact !== null;
  } catch {
    return false;
  }
}

function slowTemplate(src: string | undefined): boolean {
  return src !== undefined && src.includes('regexReplaceAll');
}

export function hasSlowStage(stages: PipelineStage[]): boolean {
  return stages.some((s) => {
    switch (s.kind) {
      case 'line_filter':
        return (s.op === '|~' || s.op === '!~') && !s.values.every(literalRegex);
      case 'regexp':
        return true;
      case 'label_filter':
        return slowLabelFilter(s.expr);
      case 'line_format':
        return slowTemplate(s.template);
      case 'label_format':
        return s.items.some((it) => slowTemplate(it.template));
      case 'drop':
      case 'keep':
        return s.items.some((it) => it.matcher !== undefined && slowMatcher(it.matcher));
      default:
        return false;
    }
  });
}

export function rangeHasSlowStage(expr: RangeAggregationExpr): boolean {
  return hasSlowStage(expr.selector.pipeline) || (expr.unwrap?.postFilters.some(slowLabelFilter) ?? false);
}
