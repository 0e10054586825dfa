/**
 * Builds the log pipeline of a LogQL query from its stages. Line filters that come before any stage rewriting the
 * line run first, block-at-a-time over the batch's bytes (they commute with parsers and label filters, which never
 * change the line), so rejected entries are never decoded. The remaining stages then run per surviving entry
 * with one reused LabelsBuilder. All configuration errors (bad regexes, templates, patterns) throw here, at
 * build time.
 */
import type { PipelineStage } from './ast.js';
import type { FieldScanner, Pipeline, PipelineEntry, RequiredLabels } from './pipeline-types.js';
import { requiredAfter } from './required-labels.js';
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

/** `| __error__=""`: keeps exactly the entries without an error. */
function keepsErrorFree(s: PipelineStage): boolean {
  return s.kind === 'label_filter' && s.expr.kind === 'string' && s.expr.matcher.name === '__error__' && s.expr.matcher.op === '=' && s.expr.matcher.value === '';
}

class StringLineFilter implements Stage {
  constructor(private readonly filter: LineFilter) {}

  process(e: EntryState): boolean {
    return this.filter.test(e.line);
  }
}

/** How a pipeline is bounded while it runs. */
export interface PipelineOptions {
  /**
   * Called every few entries (and every few lines a regex tests): throws to stop the pipeline when its
   * query is cancelled or past its deadline, so one batch of slow lines cannot overrun by much.
   */
  interrupt?: () => void;
  /** Largest string one line_format/label_format template execution may build (see Template). */
  templateMaxBytes?: number;
}

/** Entries (or regex-tested lines) between two `interrupt` calls. */
const INTERRUPT_EVERY = 16;

function buildStage(s: PipelineStage, required: RequiredLabels, opts: PipelineOptions): Stage {
  switch (s.kind) {
    case 'line_filter':
      return new StringLineFilter(new LineFilter(s));
    case 'json':
      return new JsonParser(s, required);
    case 'logfmt':
      return new LogfmtParser(s, required);
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
      return new LineFormatter(s.template, opts.templateMaxBytes);
    case 'label_format':
      return new LabelFormatter(s.items, opts.templateMaxBytes);
    case 'drop':
      return new DropLabels(s.items);
    case 'keep':
      return new KeepLabels(s.items);
  }
}

/**
 * `required` names the labels the consumer reads from the final label set (null: all of them, as a log
 * query's result streams do). Parsers then extract only what the consumer and later stages need; an
 * entry that ends with `__error__` is re-run with every label extracted, so errors show (and fail metric
 * queries with) the same labels as without the hint.
 */
export function buildPipeline(stages: PipelineStage[], required: RequiredLabels = null, opts: PipelineOptions = {}): Pipeline {
  const blockFilters: LineFilter[] = [];
  const entryStages: Stage[] = [];
  const fullStages: Stage[] = [];
  const hints = required ? requiredAfter(stages, required) : null;
  let hinted = false;
  let lineRewritten = false;
  stages.forEach((s, i) => {
    if (s.kind === 'line_filter' && !lineRewritten) blockFilters.push(new LineFilter(s, opts.interrupt));
    else {
      const hint = hints ? hints[i]! : null;
      entryStages.push(buildStage(s, hint, opts));
      if (hint && (s.kind === 'json' || s.kind === 'logfmt')) {
        hinted = true;
        fullStages.push(buildStage(s, null, opts));
      } else fullStages.push(entryStages[entryStages.length - 1]!);
    }
    if (rewritesLine(s)) lineRewritten = true;
  });
  // A lone hinted parser (optionally followed by `| __error__=""`, which a line it scans always passes):
  // callers reading only its fields can drive its scanner themselves.
  const parserOnly = blockFilters.length === 0 && (entryStages.length === 1 || (entryStages.length === 2 && keepsErrorFree(stages[stages.length - 1]!)));
  const only = parserOnly ? entryStages[0] : undefined;
  const scanner = only instanceof JsonParser || only instanceof LogfmtParser ? only.scanner : null;
  return new CompiledPipeline(blockFilters, entryStages, hinted ? fullStages : null, !stages.some(changesLabels), scanner, opts.interrupt ?? null);
}

/**
 * The entry moving through the stages, reused for every entry: the line is decoded from the batch only
 * when a stage (or the consumer) reads it, and the timestamp only becomes a BigInt when read.
 */
class EntryView implements EntryState {
  ctx: BlockContext | null = null;
  index = 0;
  bytes: Buffer | null = null;
  byteStart = 0;
  byteEnd = 0;
  rewritten = false;
  private cur: string | undefined = undefined;

  constructor(readonly labels: LabelsBuilder) {}

  start(ctx: BlockContext, i: number): void {
    this.ctx = ctx;
    this.index = i;
    const b = ctx.batch;
    this.bytes = b.lines;
    this.byteStart = b.lineOffsets[i]!;
    this.byteEnd = b.lineOffsets[i + 1]!;
    this.rewritten = false;
    this.cur = undefined;
  }

  get line(): string {
    let s = this.cur;
    if (s === undefined) s = this.cur = this.ctx!.line(this.index);
    return s;
  }

  set line(v: string) {
    this.cur = v;
    this.rewritten = true;
    this.bytes = null;
  }

  get ts(): bigint {
    return this.ctx!.batch.ts[this.index]!;
  }

  rawLength(): number {
    const o = this.ctx!.batch.lineOffsets;
    return o[this.index + 1]! - o[this.index]!;
  }

}

/** The PipelineEntry face of an EntryView (its `labels` field is the builder the stages use). */
class EntryOut implements PipelineEntry {
  view!: EntryView;

  get line(): string {
    return this.view.line;
  }

  get rewritten(): boolean {
    return this.view.rewritten;
  }

  rawLength(): number {
    return this.view.rawLength();
  }

  get(name: string): string | undefined {
    return this.view.labels.get(name);
  }

  hasError(): boolean {
    return this.view.labels.hasError();
  }

  labels(): Labels {
    return this.view.labels.labels();
  }

  metadata(): Record<string, string> | null {
    const v = this.view;
    return v.ctx!.batch.metadata?.[v.index] ?? null;
  }
}

class CompiledPipeline implements Pipeline {
  private readonly builder = new LabelsBuilder();
  private readonly view = new EntryView(this.builder);
  private readonly out = new EntryOut();

  constructor(
    private readonly blockFilters: LineFilter[],
    private readonly stages: Stage[],
    /** The same stages without required-label hints, for entries that end with an error; null when no stage has a hint. */
    private readonly fullStages: Stage[] | null,
    readonly preservesLabels: boolean,
    readonly fieldScanner: FieldScanner | null,
    private readonly interrupt: (() => void) | null,
  ) {
    this.out.view = this.view;
  }

  /** The context of the batch `runEntry` last saw: one per batch, not per entry (it caches decoded lines). */
  private entryCtx: BlockContext | null = null;

  runEntry(batch: EntryBatch, index: number, stream: Labels, emit: (index: number, entry: PipelineEntry) => void): void {
    if (this.entryCtx?.batch !== batch) this.entryCtx = new BlockContext(batch);
    const ctx = this.entryCtx;
    // Field-scanned pipelines have no block filters; any other pipeline filters its one entry here.
    if (this.blockFilters.length > 0) {
      const sel = Uint32Array.of(index);
      for (const f of this.blockFilters) if (f.select(ctx, sel, 1) === 0) return;
    }
    this.runOne(ctx, index, stream, emit);
  }

  private runOne(ctx: BlockContext, i: number, stream: Labels, emit: (index: number, entry: PipelineEntry) => void): void {
    const meta = ctx.batch.metadata;
    const view = this.view;
    const builder = this.builder;
    view.start(ctx, i);
    builder.reset(stream, meta ? meta[i] : null);
    if (!runStages(this.stages, view)) return;
    if (this.fullStages !== null && builder.hasError()) {
      view.start(ctx, i);
      builder.reset(stream, meta ? meta[i] : null);
      if (!runStages(this.fullStages, view)) return;
    }
    emit(i, this.out);
  }

  run(batch: EntryBatch, stream: Labels, emit: (index: number, line: string, labels: Labels) => void): void {
    this.runEntries(batch, stream, (i, e) => emit(i, e.line, e.labels()));
  }

  runEntries(batch: EntryBatch, stream: Labels, emit: (index: number, entry: PipelineEntry) => void): void {
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
    const interrupt = this.stages.length > 0 ? this.interrupt : null;
    for (let k = 0; k < n; k++) {
      if (interrupt !== null && k % INTERRUPT_EVERY === INTERRUPT_EVERY - 1) interrupt();
      this.runOne(ctx, sel ? sel[k]! : k, stream, emit);
    }
  }
}

function runStages(stages: Stage[], e: EntryState): boolean {
  for (let s = 0; s < stages.length; s++) if (!stages[s]!.process(e)) return false;
  return true;
}
