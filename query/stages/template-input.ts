/** Adapts an entry in the pipeline to what a template reads; one instance is reused across entries. */
import type { TemplateInput } from '../template/template.js';
import type { LabelsBuilder } from './labels-builder.js';

export class EntryTemplateInput implements TemplateInput {
  line = '';
  ts = 0n;
  source: LabelsBuilder | Map<string, string> | null = null;

  label(name: string): string | undefined {
    return this.source ? this.source.get(name) : undefined;
  }

  labels(): [string, string][] {
    const s = this.source;
    if (!s) return [];
    if (s instanceof Map) return [...s];
    const out: [string, string][] = [];
    s.forEach((k, v) => out.push([k, v]));
    return out;
  }
}
