import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { addConnectionOptions, asClientCommand, addOutputOptions, type ConnectionFlags } from './client/options.js';
import type { OutputFlags } from './output/setup.js';

export interface TailFlags extends ConnectionFlags, OutputFlags {
  since?: string;
  from?: string;
  limit?: string;
  batch?: string;
  delayFor?: string;
}

/** `narvi tail <logql>`: follow new lines live (also `narvi query --tail`). */
export function register(program: Command): void {
  const cmd = program
    .command('tail')
    .description('follow a log query live; survives server restarts without repeating or skipping lines')
    .argument('<logql>', 'a log query, e.g. {app="api"} |= "error"');
  addConnectionOptions(cmd);
  cmd
    .option('--since <duration>', 'first print up to --limit lines from this far back', '1h')
    .option('--from <time>', 'first print up to --limit lines from this time on (instead of --since)')
    .option('--limit <n>', 'how many past lines to print before following', '30')
    .option('--batch <n>', 'entries per request when catching up after a reconnect', '1000')
    .option('--delay-for <seconds>', 'have the server hold lines back this many seconds (0-5), so late ones arrive in order', '0');
  addOutputOptions(cmd);
  asClientCommand(cmd);
  cmd.action((logql: string, opts: TailFlags) => runAction('tail', () => runTail(logql, opts)));
}

export async function runTail(logql: string, flags: TailFlags): Promise<void> {
  const [{ HttpClient }, { resolveConnection, parseCount }, { parseTimeFlag, parseDurationFlag }, { outputSettings }, { createEntryPrinter }, { followTail }, { exitQuietlyOnClosedPipe }, { nowNs }] =
    await Promise.all([
      import('./client/http.js'),
      import('./client/options.js'),
      import('./client/time-range.js'),
      import('./output/setup.js'),
      import('./output/entry-printer.js'),
      import('./client/tail-follow.js'),
      import('./output/write.js'),
      import('../model/time.js'),
    ]);
  const client = new HttpClient(resolveConnection(flags));
  const out = outputSettings(flags);
  const now = nowNs();
  const start = flags.from !== undefined ? parseTimeFlag('--from', flags.from, now) : now - parseDurationFlag('--since', flags.since ?? '1h');
  const limit = parseCount('--limit', flags.limit ?? '30');
  const batch = parseCount('--batch', flags.batch ?? '1000', { min: 1 });
  const delayForSeconds = parseCount('--delay-for', flags.delayFor ?? '0', { max: 5 });
  exitQuietlyOnClosedPipe();
  const printer = await createEntryPrinter(out);
  await followTail(
    client,
    { query: logql, start, limit, delayForSeconds, batch },
    {
      entries: (es) => printer.print(es),
      notice: (m) => {
        if (!out.quiet) process.stderr.write(`narvi tail: ${m}\n`);
      },
      warn: (m) => process.stderr.write(`narvi tail: warning: ${m}\n`),
    },
  );
  await printer.finish();
}
