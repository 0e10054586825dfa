import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { addConnectionOptions, asClientCommand, addOutputOptions, addTimeRangeOptions, type ConnectionFlags } from './client/options.js';
import type { TimeRangeFlags } from './client/time-range.js';
import type { OutputFlags } from './output/setup.js';

interface QueryFlags extends ConnectionFlags, TimeRangeFlags, OutputFlags {
  limit: string;
  batch: string;
  forward?: boolean;
  step?: string;
  interval?: string;
  stats?: boolean;
  tail?: boolean;
  follow?: boolean;
  delayFor?: string;
}

/** `narvi query <logql>`: a log or metric query over a time range (query_range), or a live tail with --tail. */
export function register(program: Command): void {
  const cmd = program
    .command('query')
    .description('run a LogQL log or metric query over a time range; --tail follows it live')
    .argument('<logql>', 'e.g. {app="api"} |= "error"  or  sum by (level) (rate({app="api"}[5m]))');
  addConnectionOptions(cmd);
  addTimeRangeOptions(cmd);
  cmd
    .option('--limit <n>', 'most log lines to print; 0 prints all of them, fetched --batch at a time', '30')
    .option('--batch <n>', 'log lines per request when paging', '1000')
    .option('--forward', 'print oldest lines first (default: newest first)')
    .option('--step <duration>', 'resolution of a metric query, e.g. 30s (default: the server picks)')
    .option('--interval <duration>', 'return log lines spaced at least this far apart')
    .option('--stats', 'print the query statistics on stderr')
    .option('-t, --tail', 'follow the query live instead (see narvi tail)')
    .option('-f, --follow', 'same as --tail')
    .option('--delay-for <seconds>', 'with --tail: have the server hold lines back this many seconds (0-5)', '0');
  addOutputOptions(cmd);
  asClientCommand(cmd);
  cmd.action((logql: string, opts: QueryFlags) => runAction('query', () => runQuery(logql, opts)));
}

async function runQuery(logql: string, flags: QueryFlags): Promise<void> {
  if (flags.tail || flags.follow) {
    const { runTail } = await import('./tail.js');
    await runTail(logql, flags);
    return;
  }
  const [{ HttpClient }, opt, tr, { outputSettings }, { createEntryPrinter }, { pageLogQuery }, { printMetricData }, { StatsTotals }, { Progress }, { formatTime }, { exitQuietlyOnClosedPipe }] =
    await Promise.all([
      import('./client/http.js'),
      import('./client/options.js'),
      import('./client/time-range.js'),
      import('./output/setup.js'),
      import('./output/entry-printer.js'),
      import('./client/log-pager.js'),
      import('./output/metric-printer.js'),
      import('./output/query-stats.js'),
      import('./output/progress.js'),
      import('./output/time-format.js'),
      import('./output/write.js'),
    ]);
  const client = new HttpClient(opt.resolveConnection(flags));
  const range = tr.resolveTimeRange(flags);
  const limit = opt.parseCount('--limit', flags.limit);
  const batch = opt.parseCount('--batch', flags.batch, { min: 1 });
  const step = flags.step !== undefined ? tr.nsToSecondsParam(tr.parseDurationFlag('--step', flags.step)) : undefined;
  const interval = flags.interval !== undefined ? tr.nsToSecondsParam(tr.parseDurationFlag('--interval', flags.interval)) : undefined;
  const out = outputSettings(flags);
  exitQuietlyOnClosedPipe();

  const printer = await createEntryPrinter(out);
  const totals = new StatsTotals();
  const progress = new Progress(process.stderr, !out.quiet && process.stderr.isTTY === true);
  const result = await pageLogQuery(
    client,
    { query: logql, range, direction: flags.forward ? 'forward' : 'backward', limit, batch, step, interval },
    {
      entries: async (es) => {
        progress.clear();
        await printer.print(es);
      },
      stats: (s) => totals.add(s),
      progress: (n, reached) => progress.update(`read ${n} lines, reached ${formatTime(reached, out.tz)} …`),
    },
  );
  progress.clear();
  await printer.finish();
  if (result.kind === 'metric') {
    if (result.data.stats) totals.add(result.data.stats);
    if (result.data.resultType !== 'streams') await printMetricData(result.data, out);
  }
  if (flags.stats) process.stderr.write(totals.format());
}
