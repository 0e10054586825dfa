import { ParseError } from '../../query/parse-error.js';
import { parseExpr } from '../../query/parser.js';

/** The ParseError `run` throws; anything else it throws goes on, and not throwing fails the test. */
export function parseErrorOf(run: () => unknown): ParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

/** The ParseError of parsing `text` as a query. */
export const parseFails = (text: string): ParseError => parseErrorOf(() => parseExpr(text));
