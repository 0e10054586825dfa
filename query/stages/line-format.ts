/**
 * `| line_format "{{.level}} {{.msg}}"`: replaces the line with the template's output. When the template fails on
 * an entry the line is left as it was and the entry gets `__error__="TemplateFormatErr"`.
 */
import { QueryEvalError } from '../eval/errors.js';
import { compileTemplate, type Template } from '../template/template.js';
import type { EntryState, Stage } from './stage.js';
import { EntryTemplateInput } from './template-input.js';

export const TEMPLATE_FORMAT_ERR = 'TemplateFormatErr';

export class LineFormatter implements Stage {
  private readonly template: Template;
  private readonly input = new EntryTemplateInput();

  /** `maxBytes`: the template's budget per entry (see compileTemplate). */
  constructor(src: string, maxBytes?: number) {
    try {
      this.template = compileTemplate(src, maxBytes);
    } catch (e) {
      throw new QueryEvalError(`line_format ${JSON.stringify(src)}: ${(e as Error).message}`);
    }
  }

  process(e: EntryState): boolean {
    const input = this.input;
    input.line = e.line;
    input.ts = e.ts;
    input.source = e.labels;
    try {
      e.line = this.template.execute(input);
    } catch (err) {
      e.labels.setError(TEMPLATE_FORMAT_ERR, (err as Error).message);
    }
    input.source = null;
    return true;
  }
}
