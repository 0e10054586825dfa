/**
 * Builds the log pipeline of a LogQL query from its stages. Line filters that come before any stage rewriting the
 * line run first, block-at-a-time over the batch's bytes (they commute with parsers and label filters, which never
 * change the line), so rejected entries are never decoded. The remaining stages then run per surviving entry
 * with one reused LabelsBuilder. All configuration errors (bad regexes, templates, patterns) throw here, at
 * build time.
 */
import type { PipelineStage } from './ast.js';
import type { Pipeline } from './pipeline-types.js';
import type { EntryBatch } from '../src/model/batch.js';
import type { Labels } from '../src/model/labels.js';
import { Decolorizer } from './stages/decolorize.js';
import { DropLabels, KeepLabels } from './stages/drop-keep.js';
import { JsonParser } from './stages/json.js';
import { LabelFilter } from './stages/label-filter.js';
import { LabelFormatter } from './stages/label-format.js';
import { LabelsBuilder } from './stages/labels-builder.js';
import { BlockContext, LineFilter } from './stages/line-filter.js';
import { LineFormatter } from './stages/line-format.js';
import { LogfmtParser } from './stages/logfmt.js';
import { PatternParser } from './stages/pattern.js';
import { RegexpParser } from './stages/regexp.js';
import type { EntryState, Stage } from './stages/stage.js';
import { UnpackParser } from './stages/unpack.js';

function rewritesLine(s: PipelineStage): boolean {
  return s.kind === 'line_format' || s.kind === 'decolorize' || s.kind === 'unpack';
}

/** Whether a stage can add, change or remove a label (including setting `__error__`). */
function changesLabels(s: PipelineStage): boolean {
  switch (s.kind) {
    case 'line_filter':
    case 'decolorize':
      return false;
    case 'label_filter':
      return !onlyStringMatchers(s.expr);
    default:
      return true;
  }
}

function onlyStringMatchers(e: Extract<PipelineStage, { kind: 'label_filter' }>['expr']): boolean {
  if (e.kind === 'and' || e.kind === 'or') return onlyStringMatchers(e.left) && onlyStringMatchers(e.right);
  return e.kind === 'string' || e.kind === 'ip';
}

class StringLineFilter implements Stage {
  constructor(private readonly filter: LineFilter) {}

  process(e: EntryState): boolean {
    return this.filter.test(e.line);
  }
}

function buildStage(s: PipelineStage): Stage {
  switch (s.kind) {
    case 'line_filter':
      return new StringLineFilter(new LineFilter(s));
    case 'json':
      return new JsonParser(s);
    case 'logfmt':
      return new LogfmtParser(s);
    case 'regexp':
      return new RegexpParser(s);
    case 'pattern':
      return new PatternParser(s);
    case 'unpack':
      return new UnpackParser();
    case 'decolorize':
      return new Decolorizer();
    case 'label_filter':
      return new LabelFilter(s.expr);
    case 'line_format':
      return new LineFormatter(s.template);
    case 'label_format':
      return new LabelFormatter(s.items);
    case 'drop':
      return new DropLabels(s.items);
    case 'keep':
      return new KeepLabels(s.items);
  }
}

export function buildPipeline(stages: PipelineStage[]): Pipeline {
  const blockFilters: LineFilter[] = [];
  const entryStages: Stage[] = [];
  let lineRewritten = false;
  for (const s of stages) {
    if (s.kind === 'line_filter' && !lineRewritten) blockFilters.push(new LineFilter(s));
    else entryStages.push(buildStage(s));
    if (rewritesLine(s)) lineRewritten = true;
  }
  return new CompiledPipeline(blockFilters, entryStages, !stages.some(changesLabels));
}

class CompiledPipeline implements Pipeline {
  private readonly builder = new LabelsBuilder();
  private readonly state: EntryState = { line: '', ts: 0n, labels: this.builder };

  constructor(
    private readonly blockFilters: LineFilter[],
    private readonly stages: Stage[],
    readonly preservesLabels: boolean,
  ) {}

  run(batch: EntryBatch, stream: Labels, emit: (index: number, line: string, labels: Labels) => void): void {
    const count = batch.count;
    if (count === 0) return;
    const ctx = new BlockContext(batch);
    let sel: Uint32Array | null = null;
    let n = count;
    if (this.blockFilters.length > 0) {
      sel = new Uint32Array(count);
      for (let i = 0; i < count; i++) sel[i] = i;
      for (const f of this.blockFilters) {
        n = f.select(ctx, sel, n);
        if (n === 0) return;
      }
    }
    const meta = batch.metadata;
    const stages = this.stages;
    if (stages.length === 0 && !meta) {
      for (let k = 0; k < n; k++) {
        const i = sel ? sel[k]! : k;
        emit(i, ctx.line(i), stream);
      }
      return;
    }
    const builder = this.builder;
    const state = this.state;
    outer: for (let k = 0; k < n; k++) {
      const i = sel ? sel[k]! : k;
      state.line = ctx.line(i);
      state.ts = batch.ts[i]!;
      builder.reset(stream, meta ? meta[i] : null);
      for (let s = 0; s < stages.length; s++) {
        if (!stages[s]!.process(state)) continue outer;
      }
      emit(i, state.line, builder.labels());
    }
  }
}
