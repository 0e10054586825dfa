import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { addConnectionOptions, asClientCommand, addOutputOptions, type ConnectionFlags } from './client/options.js';
import type { OutputFlags } from './output/setup.js';

interface InstantFlags extends ConnectionFlags, OutputFlags {
  now?: string;
  limit: string;
  forward?: boolean;
  stats?: boolean;
}

/** `narvi instant-query <logql>`: evaluate a query at one instant (the /query endpoint). */
export function register(program: Command): void {
  const cmd = program
    .command('instant-query')
    .description('evaluate a LogQL query at one instant, e.g. count_over_time({app="api"}[5m])')
    .argument('<logql>', 'a metric query (or a log query, which returns up to --limit lines)');
  addConnectionOptions(cmd);
  cmd
    .option('--now <time>', 'the instant: RFC3339, Unix seconds/nanoseconds, or a duration back from now (default: now)')
    .option('--limit <n>', 'most log lines a log query returns', '30')
    .option('--forward', 'for a log query: oldest lines first')
    .option('--stats', 'print the query statistics on stderr');
  addOutputOptions(cmd);
  asClientCommand(cmd);
  cmd.action((logql: string, opts: InstantFlags) => runAction('instant-query', () => runInstant(logql, opts)));
}

async function runInstant(logql: string, flags: InstantFlags): Promise<void> {
  const [{ HttpClient }, opt, { parseTimeFlag }, { outputSettings }, { createEntryPrinter }, { checkQueryData }, { entriesOf }, { printMetricData }, { StatsTotals }, { exitQuietlyOnClosedPipe }, { nowNs }] =
    await Promise.all([
      import('./client/http.js'),
      import('./client/options.js'),
      import('./client/time-range.js'),
      import('./output/setup.js'),
      import('./output/entry-printer.js'),
      import('./client/log-pager.js'),
      import('./client/log-entry.js'),
      import('./output/metric-printer.js'),
      import('./output/query-stats.js'),
      import('./output/write.js'),
      import('../model/time.js'),
    ]);
  const client = new HttpClient(opt.resolveConnection(flags));
  const time = flags.now !== undefined ? parseTimeFlag('--now', flags.now) : nowNs();
  const limit = opt.parseCount('--limit', flags.limit, { min: 1 });
  const direction = flags.forward ? 'forward' : 'backward';
  const out = outputSettings(flags);
  exitQuietlyOnClosedPipe();
  const data = checkQueryData(
    await client.getJson('/loki/api/v1/query', { query: logql, time: time.toString(), limit: String(limit), direction }),
    'query',
  );
  if (data.resultType === 'streams') {
    const printer = await createEntryPrinter(out);
    await printer.print(entriesOf(data.result, direction));
    await printer.finish();
  } else {
    await printMetricData(data, out);
  }
  if (flags.stats) {
    const totals = new StatsTotals();
    if (data.stats) totals.add(data.stats);
    process.stderr.write(totals.format());
  }
}
