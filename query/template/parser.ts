/**
 * Parses the Go text/template subset LogQL's line_format and label_format use into a tree: text, `{{ pipeline }}`
 * and `{{ if }}…{{ else if }}…{{ else }}…{{ end }}`. Function names and argument counts are checked here, so a bad
 * template fails when the query is built, with its position.
 */
import { FUNCS, type TemplateFunc } from './funcs.js';
import { position, segment, type Segment, type Token, TemplateSyntaxError } from './lexer.js';

export type Operand =
  | { k: 'field'; path: string[]; pos: number }
  | { k: 'dot'; pos: number }
  | { k: 'value'; value: string | number | boolean | null; int: boolean; pos: number }
  | { k: 'pipe'; pipe: Pipe; pos: number }
  /** A function named as an argument: Go calls it with no arguments. */
  | { k: 'call'; name: string; def: TemplateFunc; pos: number };

export interface Command {
  /** Set when the command calls a function; `args` are then its explicit arguments. */
  fn?: { name: string; def: TemplateFunc };
  args: Operand[];
  pos: number;
}

export interface Pipe {
  cmds: Command[];
}

export type TNode =
  | { k: 'text'; text: string }
  | { k: 'action'; pipe: Pipe; pos: number }
  | { k: 'if'; cond: Pipe; then: TNode[]; else: TNode[]; pos: number };

const UNSUPPORTED_KEYWORDS = new Set(['range', 'with', 'define', 'template', 'block', 'break', 'continue']);

export class TemplateParseError extends Error {}

/**
 * Deepest nesting of `{{if}}` blocks (an `{{else if}}` chain counts one per link) and of parenthesised pipelines.
 * Parsing and execution recurse once per level, so this bounds the stack a template can take.
 */
export const MAX_TEMPLATE_DEPTH = 1000;

const TOO_DEEP = `template nests too deeply: more than ${MAX_TEMPLATE_DEPTH} levels of {{if}} blocks or parentheses (the limit is ${MAX_TEMPLATE_DEPTH})`;

export function parseTemplate(src: string): TNode[] {
  try {
    const segs = segment(src);
    const p = new TreeParser(segs);
    const nodes = p.list();
    if (p.stop) throw new TemplateSyntaxError(`unexpected {{${p.stop.word}}}`, p.stop.pos);
    return nodes;
  } catch (e) {
    if (e instanceof TemplateSyntaxError) {
      throw new TemplateParseError(`template: ${position(src, e.offset)}: ${e.message}`);
    }
    throw e;
  }
}

class TreeParser {
  private i = 0;
  private depth = 0;
  /** The control word (`else`, `end`) that ended the last list, with the tokens after it. */
  stop: { word: 'else' | 'end'; rest: Token[]; pos: number } | null = null;

  constructor(private readonly segs: Segment[]) {}

  /** Nodes until the end of input or an `else`/`end` action (left in `stop`). */
  list(): TNode[] {
    const out: TNode[] = [];
    this.stop = null;
    while (this.i < this.segs.length) {
      const s = this.segs[this.i++]!;
      if (s.kind === 'text') {
        out.push({ k: 'text', text: s.text });
        continue;
      }
      const t = s.tokens;
      if (t.length === 0) throw new TemplateSyntaxError('missing value for command', s.pos);
      const first = t[0]!;
      if (first.type === 'ident') {
        if (first.name === 'else' || first.name === 'end') {
          this.stop = { word: first.name, rest: t.slice(1), pos: s.pos };
          if (first.name === 'end' && t.length > 1) throw new TemplateSyntaxError('unexpected tokens after end', t[1]!.pos);
          return out;
        }
        if (first.name === 'if') {
          out.push(this.ifNode(t.slice(1), s.pos));
          continue;
        }
        if (UNSUPPORTED_KEYWORDS.has(first.name)) throw new TemplateSyntaxError(`{{${first.name}}} is not supported in LogQL templates`, first.pos);
      }
      out.push({ k: 'action', pipe: parsePipe(t, s.pos), pos: s.pos });
    }
    return out;
  }

  private ifNode(condTokens: Token[], pos: number): TNode {
    if (++this.depth > MAX_TEMPLATE_DEPTH) throw new TemplateSyntaxError(TOO_DEEP, pos);
    const node = this.ifBody(condTokens, pos);
    this.depth--;
    return node;
  }

  private ifBody(condTokens: Token[], pos: number): TNode {
    if (condTokens.length === 0) throw new TemplateSyntaxError('missing value for if', pos);
    const cond = parsePipe(condTokens, pos);
    const then = this.list();
    const stop = this.stop;
    if (!stop) throw new TemplateSyntaxError('unexpected EOF: {{if}} without {{end}}', pos);
    this.stop = null;
    if (stop.word === 'end') return { k: 'if', cond, then, else: [], pos };
    // {{else if …}} chains share the outer {{end}}.
    if (stop.rest.length > 0) {
      const r = stop.rest;
      if (r[0]!.type !== 'ident' || r[0]!.name !== 'if') throw new TemplateSyntaxError('expected end or if after else', r[0]!.pos);
      return { k: 'if', cond, then, else: [this.ifNode(r.slice(1), stop.pos)], pos };
    }
    const elseNodes = this.list();
    const end = this.stop as { word: string; pos: number } | null;
    if (!end) throw new TemplateSyntaxError('unexpected EOF: {{else}} without {{end}}', stop.pos);
    if (end.word !== 'end') throw new TemplateSyntaxError('expected {{end}} after {{else}}', end.pos);
    this.stop = null;
    return { k: 'if', cond, then, else: elseNodes, pos };
  }
}

function parsePipe(tokens: Token[], pos: number): Pipe {
  let i = 0;
  const pipe = (depth: number): Pipe => {
    const cmds: Command[] = [];
    for (;;) {
      const cmdPos = tokens[i]?.pos ?? pos;
      const args: Operand[] = [];
      let fnRef: Command['fn'];
      while (i < tokens.length) {
        const t = tokens[i]!;
        if (t.type === 'op' && (t.op === '|' || t.op === ')')) break;
        i++;
        if (t.type === 'ident') {
          if (t.name === 'true' || t.name === 'false') args.push({ k: 'value', value: t.name === 'true', int: false, pos: t.pos });
          else if (t.name === 'nil') args.push({ k: 'value', value: null, int: false, pos: t.pos });
          else {
            const def = FUNCS[t.name];
            if (!def) throw new TemplateSyntaxError(`function ${JSON.stringify(t.name)} not defined`, t.pos);
            if (args.length > 0 || fnRef) {
              if (def.min > 0) throw new TemplateSyntaxError(`wrong number of args for ${t.name}: want ${def.min} got 0 (wrap calls with arguments in parentheses)`, t.pos);
              args.push({ k: 'call', name: t.name, def, pos: t.pos });
            } else fnRef = { name: t.name, def };
          }
        } else if (t.type === 'field') args.push({ k: 'field', path: t.path, pos: t.pos });
        else if (t.type === 'dot') args.push({ k: 'dot', pos: t.pos });
        else if (t.type === 'string') args.push({ k: 'value', value: t.value, int: false, pos: t.pos });
        else if (t.type === 'number') args.push({ k: 'value', value: t.value, int: t.int, pos: t.pos });
        else if (t.type === 'op' && t.op === '(') {
          if (depth + 1 > MAX_TEMPLATE_DEPTH) throw new TemplateSyntaxError(TOO_DEEP, t.pos);
          const inner = pipe(depth + 1);
          const close = tokens[i];
          if (!close || close.type !== 'op' || close.op !== ')') throw new TemplateSyntaxError('unclosed left paren', t.pos);
          i++;
          args.push({ k: 'pipe', pipe: inner, pos: t.pos });
        }
      }
      if (!fnRef && args.length === 0) throw new TemplateSyntaxError('missing value for command', cmdPos);
      const piped = cmds.length > 0;
      if (fnRef) {
        const n = args.length + (piped ? 1 : 0);
        if (n < fnRef.def.min || n > fnRef.def.max) {
          const want = fnRef.def.min === fnRef.def.max ? `${fnRef.def.min}` : fnRef.def.max === Infinity ? `at least ${fnRef.def.min}` : `${fnRef.def.min} to ${fnRef.def.max}`;
          throw new TemplateSyntaxError(`wrong number of args for ${fnRef.name}: want ${want} got ${n}`, cmdPos);
        }
        cmds.push({ fn: fnRef, args, pos: cmdPos });
      } else {
        if (args.length > 1) throw new TemplateSyntaxError(`can't give argument to non-function ${describe(args[0]!)}`, args[1]!.pos);
        if (piped) throw new TemplateSyntaxError(`can't give argument to non-function ${describe(args[0]!)}`, cmdPos);
        cmds.push({ args, pos: cmdPos });
      }
      const next = tokens[i];
      if (next && next.type === 'op' && next.op === '|') {
        i++;
        if (i >= tokens.length || (tokens[i]!.type === 'op' && (tokens[i] as { op: string }).op !== '(')) {
          throw new TemplateSyntaxError('missing command after |', next.pos);
        }
        continue;
      }
      if (next && next.type === 'op' && next.op === ')' && depth === 0) throw new TemplateSyntaxError('unexpected right paren', next.pos);
      return { cmds };
    }
  };
  return pipe(0);
}

function describe(o: Operand): string {
  switch (o.k) {
    case 'field':
      return '.' + o.path.join('.');
    case 'dot':
      return '.';
    case 'value':
      return JSON.stringify(o.value);
    case 'pipe':
      return '(…)';
    case 'call':
      return o.name;
  }
}
