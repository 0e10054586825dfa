/**
 * A LogQL syntax or validation error. `line` and `col` are 1-based and point at the offending token, so an
 * editor or the CLI can underline it; the message repeats them in the shape Loki's clients already display.
 */
export class ParseError extends Error {
  readonly line: number;
  readonly col: number;
  /** The message without the position prefix. */
  readonly detail: string;

  constructor(detail: string, line: number, col: number) {
    super(`parse error at line ${line}, col ${col}: ${detail}`);
    this.name = 'ParseError';
    this.line = line;
    this.col = col;
    this.detail = detail;
  }
}

/**
 * 1-based line and column of a UTF-16 offset. Columns count characters (code points), not bytes or UTF-16 units,
 * so a `µs` earlier on the line does not shift the caret. Only runs on the error path, so a scan is fine.
 */
export function positionAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let col = 1;
  for (let i = lineStart; i < end; i++) {
    const c = text.charCodeAt(i);
    // The low half of a surrogate pair belongs to the character already counted.
    if (c < 0xdc00 || c > 0xdfff) col++;
  }
  return { line, col };
}

export function parseErrorAt(text: string, offset: number, detail: string): ParseError {
  const { line, col } = positionAt(text, offset);
  return new ParseError(detail, line, col);
}

/** Query text quoted in an error message, cut short so a huge pasted regex or template does not flood the reply. */
export function quoteShort(s: string, max = 100): string {
  return s.length > max ? `${JSON.stringify(s.slice(0, max)).slice(0, -1)}…" (${s.length} characters)` : JSON.stringify(s);
}
