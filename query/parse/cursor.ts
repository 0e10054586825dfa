/** The parser's view of the token array: lookahead, expectations, and errors positioned at a token. */
import { describeToken, type Token } from '../lexer.js';
import { parseErrorAt } from '../parse-error.js';

export class Cursor {
  private i = 0;
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

  unexpected(t: Token, expecting: string): never {
    this.fail(t.pos, `syntax error: unexpected ${describeToken(t)}, expecting ${expecting}`);
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

  /** Records where `node` starts and returns it. */
  mark<T extends object>(node: T, pos: number): T {
    this.starts.set(node, pos);
    return node;
  }

  startOf(node: object): number {
    return this.starts.get(node) ?? this.peek().pos;
  }
}
