/** The parser's view of the token array: lookahead, expectations, and errors positioned at a token. */
import { describeToken, type Token } from '../lexer.js';
import { parseErrorAt } from '../parse-error.js';
import { tokenLabel } from './token-name.js';

/**
 * The deepest a query may nest: parentheses, aggregations around aggregations, chains of binary operators and of
 * and/or label filters all count. The parser, the printer and the evaluator walk the tree recursively, so without a
 * bound a long chain such as `1+1+…` or deep parentheses overflows the stack; no hand-written query comes near it.
 */
export const MAX_QUERY_DEPTH = 1000;

export const QUERY_TOO_DEEP = `query nests too deeply: more than ${MAX_QUERY_DEPTH} levels of parentheses, aggregations or chained operators (the limit is ${MAX_QUERY_DEPTH}); split or simplify the query`;

export class Cursor {
  private i = 0;
  private depth = 0;
  /** Height of each tree built so far (an operator over operands, a filter over filters); absent means a leaf. */
  private readonly heights = new WeakMap<object, number>();
  /** Where each parsed expression starts, for errors raised after the expression is built. */
  readonly starts = new WeakMap<object, number>();

  constructor(
    readonly text: string,
    private readonly tokens: Token[],
  ) {}

  peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)]!;
  }

  next(): Token {
    const t = this.tokens[this.i]!;
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  atOp(op: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'op' && t.text === op;
  }

  atIdent(name?: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'ident' && (name === undefined || t.text === name);
  }

  atEnd(): boolean {
    return this.peek().type === 'eof';
  }

  fail(pos: number, detail: string): never {
    throw parseErrorAt(this.text, pos, detail);
  }

  /** Loki's name for a token of this query, as its "syntax error: unexpected X" messages put it. */
  nameOf(t: Token): string {
    const i = this.tokens[this.i] === t ? this.i : this.tokens.indexOf(t);
    return i < 0 ? describeToken(t) : tokenLabel(this.tokens, i);
  }

  /** Loki's "syntax error: unexpected X" for token `t`, followed by narvi's explanation. */
  unexpectedWith(t: Token, explanation: string): never {
    this.fail(t.pos, `syntax error: unexpected ${this.nameOf(t)}: ${explanation}`);
  }

  unexpected(t: Token, expecting: string): never {
    this.fail(t.pos, `syntax error: unexpected ${this.nameOf(t)}, expecting ${expecting}`);
  }

  expectOp(op: string, expecting: string = op): Token {
    const t = this.peek();
    if (t.type !== 'op' || t.text !== op) this.unexpected(t, expecting);
    return this.next();
  }

  expectIdent(expecting = 'IDENTIFIER'): Token {
    const t = this.peek();
    if (t.type !== 'ident') this.unexpected(t, expecting);
    return this.next();
  }

  expectString(expecting = 'STRING'): Token & { value: string } {
    const t = this.peek();
    if (t.type !== 'string') this.unexpected(t, expecting);
    return this.next() as Token & { value: string };
  }

  /** Enters one level of parser recursion (a parenthesis, an argument); fails past MAX_QUERY_DEPTH. */
  enter(pos: number): void {
    if (++this.depth > MAX_QUERY_DEPTH) this.fail(pos, QUERY_TOO_DEEP);
  }

  leave(): void {
    this.depth--;
  }

  heightOf(node: object): number {
    return this.heights.get(node) ?? 1;
  }

  /** Records that `node` sits one level above `children`; fails at `pos` when the tree passes MAX_QUERY_DEPTH. */
  stack<T extends object>(node: T, pos: number, ...children: object[]): T {
    let h = 0;
    for (const ch of children) h = Math.max(h, this.heightOf(ch));
    if (h + 1 > MAX_QUERY_DEPTH) this.fail(pos, QUERY_TOO_DEEP);
    this.heights.set(node, h + 1);
    return node;
  }

  /** Records where `node` starts and returns it. */
  mark<T extends object>(node: T, pos: number): T {
    this.starts.set(node, pos);
    return node;
  }

  startOf(node: object): number {
    return this.starts.get(node) ?? this.peek().pos;
  }
}
