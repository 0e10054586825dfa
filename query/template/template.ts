/**
 * A compiled LogQL template (`line_format`, `label_format`): parsed once when the pipeline is built, executed per
 * entry against its labels, line and timestamp. Execution errors throw TemplateExecError; the stages turn them
 * into `__error__="TemplateFormatErr"`.
 */
import type { ExecContext } from './funcs.js';
import { parseTemplate, type Command, type Operand, type Pipe, type TNode } from './parser.js';
import { GoInt, LabelMap, NO_VALUE, printValue, TemplateExecError, TemplateSizeError, truth, type TValue, typeName } from './values.js';

export { TemplateParseError } from './parser.js';
export { TemplateExecError, TemplateSizeError } from './values.js';

/**
 * Characters one execution may build when the caller sets no budget: every string a function returns and
 * every piece of output counts, so nothing a query's text asks for (`repeat 400000000`, `%400000000d`)
 * can allocate more than a few times this per entry.
 */
export const DEFAULT_TEMPLATE_MAX_BYTES = 1_000_000;

/** The entry a template runs against. */
export interface TemplateInput {
  line: string;
  ts: bigint;
  /** A label's current value, or undefined when the entry has no such label. */
  label(name: string): string | undefined;
  /** All current labels, for `{{ . }}`. */
  labels(): [string, string][];
}

export interface Template {
  execute(input: TemplateInput): string;
  /** Label names the template reads with `.name` (for callers that want to know what it depends on). */
  readonly fields: ReadonlySet<string>;
}

/** `maxBytes`: the characters one execution may build (TemplateSizeError past it; see DEFAULT_TEMPLATE_MAX_BYTES). */
export function compileTemplate(src: string, maxBytes = DEFAULT_TEMPLATE_MAX_BYTES): Template {
  const nodes = parseTemplate(src);
  const fields = new Set<string>();
  collectFields(nodes, fields);
  const simple = simpleParts(nodes);
  if (simple) {
    return {
      fields,
      execute(input) {
        let out = '';
        for (const p of simple) {
          if (typeof p === 'string') out += p;
          else out += input.label(p.name) ?? '<no value>';
          if (out.length > maxBytes) throw sizeError(maxBytes, 'the output', out.length);
        }
        return out;
      },
    };
  }
  return {
    fields,
    execute(input) {
      return new Executor(input, maxBytes).nodes(nodes);
    },
  };
}

function sizeError(max: number, what: string, chars: number): TemplateSizeError {
  return new TemplateSizeError(`template output too large: ${what} would bring this entry's template to ${chars} characters, over the limit of ${max} (limits.max_template_output_size)`);
}

/** Templates made only of text and `{{ .name }}` run as a concatenation, without the interpreter. */
function simpleParts(nodes: TNode[]): (string | { name: string })[] | null {
  const parts: (string | { name: string })[] = [];
  for (const n of nodes) {
    if (n.k === 'text') parts.push(n.text);
    else if (n.k === 'action' && n.pipe.cmds.length === 1) {
      const c = n.pipe.cmds[0]!;
      const a = c.args[0];
      if (c.fn || c.args.length !== 1 || a?.k !== 'field' || a.path.length !== 1) return null;
      parts.push({ name: a.path[0]! });
    } else return null;
  }
  return parts;
}

function collectFields(nodes: TNode[], out: Set<string>): void {
  const pipe = (p: Pipe) => {
    for (const c of p.cmds) for (const a of c.args) operand(a);
  };
  const operand = (a: Operand) => {
    if (a.k === 'field') out.add(a.path[0]!);
    else if (a.k === 'pipe') pipe(a.pipe);
  };
  for (const n of nodes) {
    if (n.k === 'action') pipe(n.pipe);
    else if (n.k === 'if') {
      pipe(n.cond);
      collectFields(n.then, out);
      collectFields(n.else, out);
    }
  }
}

/** One execution: the interpreter, and the ExecContext its functions see (with the execution's budget). */
class Executor implements ExecContext {
  /** Characters built so far: function results and output pieces. */
  private used = 0;

  constructor(
    private readonly input: TemplateInput,
    private readonly maxBytes: number,
  ) {}

  get line(): string {
    return this.input.line;
  }

  get ts(): bigint {
    return this.input.ts;
  }

  reserve(chars: number, fn: string): void {
    const total = this.used + chars;
    if (!(total <= this.maxBytes)) throw sizeError(this.maxBytes, fn, total);
    this.used = total;
  }

  nodes(list: TNode[]): string {
    let out = '';
    for (const n of list) {
      let piece: string;
      if (n.k === 'text') piece = n.text;
      else if (n.k === 'action') piece = printValue(this.pipe(n.pipe));
      else piece = this.nodes(truth(this.pipe(n.cond)) ? n.then : n.else);
      if (n.k !== 'if') this.reserve(piece.length, 'the output');
      out += piece;
    }
    return out;
  }

  private pipe(p: Pipe): TValue {
    let prev: TValue | undefined;
    for (const c of p.cmds) prev = this.command(c, prev);
    return prev!;
  }

  private command(c: Command, piped: TValue | undefined): TValue {
    if (!c.fn) return this.operand(c.args[0]!);
    const name = c.fn.name;
    // Go evaluates and/or lazily, stopping at the first operand that decides the result.
    if (name === 'and' || name === 'or') {
      const ops: (() => TValue)[] = c.args.map((a) => () => this.operand(a));
      if (piped !== undefined) ops.push(() => piped);
      let v: TValue = null;
      for (const op of ops) {
        v = op();
        if (truth(v) !== (name === 'and')) return v;
      }
      return v;
    }
    const args = c.args.map((a) => this.operand(a));
    if (piped !== undefined) args.push(piped);
    const before = this.used;
    const v = c.fn.def.call(args, this);
    // Every string a function builds counts once, so chains of growing calls stay within the budget too:
    // functions that can outgrow their inputs charged theirs before building it; a value handed back
    // unchanged (the line, an argument) was built by someone else.
    if (typeof v === 'string' && this.used === before && v !== this.input.line && !args.includes(v)) this.reserve(v.length, name);
    return v;
  }

  private operand(a: Operand): TValue {
    switch (a.k) {
      case 'value':
        return a.int && typeof a.value === 'number' ? new GoInt(a.value) : a.value;
      case 'dot':
        return new LabelMap((n) => this.input.label(n), () => this.input.labels());
      case 'pipe':
        return this.pipe(a.pipe);
      case 'call':
        return a.def.call([], this);
      case 'field': {
        const v = this.input.label(a.path[0]!);
        const value: TValue = v === undefined ? NO_VALUE : v;
        if (a.path.length > 1) {
          throw new TemplateExecError(`can't evaluate field ${a.path[1]} in type ${value === NO_VALUE ? 'interface {}' : typeName(value)}`);
        }
        return value;
      }
    }
  }
}
