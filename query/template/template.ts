/**
 * A compiled LogQL template (`line_format`, `label_format`): parsed once when the pipeline is built, executed per
 * entry against its labels, line and timestamp. Execution errors throw TemplateExecError; the stages turn them
 * into `__error__="TemplateFormatErr"`.
 */
import type { ExecContext } from './funcs.js';
import { parseTemplate, type Command, type Operand, type Pipe, type TNode } from './parser.js';
import { GoInt, LabelMap, NO_VALUE, printValue, TemplateExecError, truth, type TValue, typeName } from './values.js';

export { TemplateParseError } from './parser.js';
export { TemplateExecError } from './values.js';

/** The entry a template runs against. */
export interface TemplateInput extends ExecContext {
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

export function compileTemplate(src: string): Template {
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
        }
        return out;
      },
    };
  }
  return {
    fields,
    execute(input) {
      return new Executor(input).nodes(nodes);
    },
  };
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

class Executor {
  constructor(private readonly input: TemplateInput) {}

  nodes(list: TNode[]): string {
    let out = '';
    for (const n of list) {
      if (n.k === 'text') out += n.text;
      else if (n.k === 'action') out += printValue(this.pipe(n.pipe));
      else out += this.nodes(truth(this.pipe(n.cond)) ? n.then : n.else);
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
    return c.fn.def.call(args, this.input);
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
        return a.def.call([], this.input);
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
