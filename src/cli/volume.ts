import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { addConnectionOptions, asClientCommand, addTimeRangeOptions, type ConnectionFlags } from './client/options.js';
import type { TimeRangeFlags } from './client/time-range.js';

interface VolumeFlags extends ConnectionFlags, TimeRangeFlags {
  output: string;
  quiet?: boolean;
  timezone: string;
  limit: string;
  targetLabels?: string;
  aggregateBy?: string;
  range?: boolean;
  step?: string;
}

/** `narvi volume <selector>`: bytes ingested per stream or label (index/volume, index/volume_range). */
export function register(program: Command): void {
  const cmd = program
    .command('volume')
    .description('show the volume (bytes) of the streams a selector matches, largest first')
    .argument('<logql>', 'a stream selector, e.g. {namespace="prod"}');
  addConnectionOptions(cmd);
  addTimeRangeOptions(cmd);
  cmd
    .option('--limit <n>', 'most series to return', '100')
    .option('--target-labels <names>', 'aggregate by these labels (comma-separated) instead of the selector\'s')
    .option('--aggregate-by <mode>', 'series (per stream) or labels (per label name)', 'series')
    .option('--range', 'volume over time (index/volume_range), one row per --step')
    .option('--step <duration>', 'with --range: the resolution, e.g. 1h')
    .option('-o, --output <mode>', 'default (a table), raw (the result JSON) or jsonl (one series per line)', 'default')
    .option('-q, --quiet', 'do not print notices on stderr')
    .option('-z, --timezone <zone>', 'time zone of printed timestamps (with --range)', 'Local');
  asClientCommand(cmd);
  cmd.action((logql: string, opts: VolumeFlags) => runAction('volume', () => runVolume(logql, opts)));
}

async function runVolume(logql: string, flags: VolumeFlags): Promise<void> {
  const [{ HttpClient }, opt, tr, { usageError }, { checkQueryData }, { printMetricData }, { formatTable, humanBytes }, { write, exitQuietlyOnClosedPipe }, { resolveTimeZone }, { canonicalLabels }] =
    await Promise.all([
      import('./client/http.js'),
      import('./client/options.js'),
      import('./client/time-range.js'),
      import('./client/errors.js'),
      import('./client/log-pager.js'),
      import('./output/metric-printer.js'),
      import('./output/table.js'),
      import('./output/write.js'),
      import('./output/time-format.js'),
      import('../model/labels.js'),
    ]);
  const client = new HttpClient(opt.resolveConnection(flags));
  const mode = opt.parseOutputMode(flags.output);
  const range = tr.resolveTimeRange(flags);
  const limit = opt.parseCount('--limit', flags.limit, { min: 1 });
  const tz = resolveTimeZone(flags.timezone);
  const aggregateBy = flags.aggregateBy ?? 'series';
  if (aggregateBy !== 'series' && aggregateBy !== 'labels') throw usageError(`--aggregate-by ${JSON.stringify(aggregateBy)} is not allowed: use series or labels`);
  if (flags.step !== undefined && !flags.range) throw usageError('--step needs --range');
  const step = flags.step !== undefined ? tr.nsToSecondsParam(tr.parseDurationFlag('--step', flags.step)) : undefined;
  const targetLabels = flags.targetLabels?.split(',').map((s) => s.trim()).filter(Boolean).join(',');
  exitQuietlyOnClosedPipe();
  const path = flags.range ? '/loki/api/v1/index/volume_range' : '/loki/api/v1/index/volume';
  const data = checkQueryData(
    await client.getJson(path, {
      query: logql,
      start: range.start.toString(),
      end: range.end.toString(),
      limit: String(limit),
      step,
      targetLabels: targetLabels || undefined,
      aggregateBy,
    }),
    path.slice('/loki/api/v1/'.length),
  );
  if (data.resultType === 'streams') throw usageError(`${path} answered a streams result; expected volumes`);
  if (mode !== 'default' || data.resultType !== 'vector') {
    await printMetricData(data, { mode, quiet: flags.quiet === true, tz, out: process.stdout, err: process.stderr });
    return;
  }
  // An instant volume reads best as a ranking: biggest first, bytes for people beside the exact count.
  const rows = data.result
    .map((s) => ({ labels: canonicalLabels(s.metric ?? {}), bytes: Number(s.value[1]) }))
    .sort((a, b) => b.bytes - a.bytes || (a.labels < b.labels ? -1 : 1));
  if (rows.length === 0) {
    if (!flags.quiet) process.stderr.write('no streams matched\n');
    return;
  }
  await write(process.stdout, formatTable(['VOLUME', 'BYTES', 'LABELS'], rows.map((r) => [humanBytes(r.bytes), String(r.bytes), r.labels]), new Set([0, 1])));
}
