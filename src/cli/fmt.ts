import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { asClientCommand } from './client/options.js';

/**
 * `narvi fmt [logql]`: print a query in canonical form. It runs locally with the same parser and printer the
 * server's format_query endpoint uses, so it needs no server and works offline.
 */
export function register(program: Command): void {
  const cmd = program
    .command('fmt')
    .description('format a LogQL query (read from the argument or stdin); works offline')
    .argument('[logql]', 'the query; read from stdin when absent')
    .action((logql: string | undefined) => runAction('fmt', () => runFmt(logql)));
  asClientCommand(cmd);
}

async function runFmt(arg: string | undefined): Promise<void> {
  const [{ usageError, CliError }, { parseExpr, ParseError }, { printExpr }, { write }] = await Promise.all([
    import('./client/errors.js'),
    import('../../query/parser.js'),
    import('../../query/printer.js'),
    import('./output/write.js'),
  ]);
  let text = arg;
  if (text === undefined) {
    if (process.stdin.isTTY) throw usageError('give the query as an argument or on stdin, e.g. narvi fmt \'{app="api"}|="x"\'');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  if (text.trim() === '') throw usageError('the query is empty');
  let formatted: string;
  try {
    formatted = printExpr(parseExpr(text));
  } catch (err) {
    if (err instanceof ParseError) throw new CliError(err.message);
    throw err;
  }
  await write(process.stdout, formatted + '\n');
}
