/**
 * `| label_format dst=src, other="{{ .x }}"`: a rename moves src's value to dst and removes src; a template sets
 * dst to its output. Templates all see the labels as they were when the stage began. A label may be written only
 * once per stage. A failing template leaves its label alone and sets `__error__="TemplateFormatErr"`.
 */
import type { LabelFormatItem } from '../ast.js';
import { QueryEvalError } from '../eval/errors.js';
import { compileTemplate, type Template } from '../template/template.js';
import { TEMPLATE_FORMAT_ERR } from './line-format.js';
import type { EntryState, Stage } from './stage.js';
import { EntryTemplateInput } from './template-input.js';

type Op = { dst: string; rename: string } | { dst: string; template: Template };

export class LabelFormatter implements Stage {
  private readonly ops: Op[];
  private readonly hasTemplates: boolean;
  private readonly input = new EntryTemplateInput();
  private readonly snapshot = new Map<string, string>();
  private readonly results: (string | undefined)[];

  /** `maxBytes`: each template's budget per entry (see compileTemplate). */
  constructor(items: LabelFormatItem[], maxBytes?: number) {
    const seen = new Set<string>();
    this.ops = items.map((it) => {
      if (seen.has(it.dst)) throw new QueryEvalError(`label_format sets ${JSON.stringify(it.dst)} more than once; each label can be formatted once per label_format`);
      seen.add(it.dst);
      if (it.rename !== undefined) return { dst: it.dst, rename: it.rename };
      const src = it.template ?? '';
      try {
        return { dst: it.dst, template: compileTemplate(src, maxBytes) };
      } catch (e) {
        throw new QueryEvalError(`label_format ${it.dst}=${JSON.stringify(src)}: ${(e as Error).message}`);
      }
    });
    this.hasTemplates = this.ops.some((o) => 'template' in o);
    this.results = new Array(this.ops.length);
  }

  process(e: EntryState): boolean {
    const lbs = e.labels;
    if (this.hasTemplates) {
      const input = this.input;
      const snap = this.snapshot;
      snap.clear();
      lbs.forEach((k, v) => snap.set(k, v));
      input.line = e.line;
      input.ts = e.ts;
      input.source = snap;
      for (let i = 0; i < this.ops.length; i++) {
        const op = this.ops[i]!;
        this.results[i] = undefined;
        if (!('template' in op)) continue;
        try {
          this.results[i] = op.template.execute(input);
        } catch (err) {
          lbs.setError(TEMPLATE_FORMAT_ERR, (err as Error).message);
        }
      }
      input.source = null;
    }
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i]!;
      if ('rename' in op) {
        const v = lbs.get(op.rename);
        if (op.rename === op.dst) continue;
        lbs.delete(op.rename);
        if (v === undefined) lbs.delete(op.dst);
        else lbs.set(op.dst, v);
      } else {
        const v = this.results[i];
        if (v !== undefined) lbs.set(op.dst, v);
      }
    }
    return true;
  }
}
