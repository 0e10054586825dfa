import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { addConnectionOptions, asClientCommand, addTimeRangeOptions, type ConnectionFlags } from './client/options.js';
import type { TimeRangeFlags } from './client/time-range.js';

interface StatsFlags extends ConnectionFlags, TimeRangeFlags {
  output: string;
}

/** `narvi stats <selector>`: how many streams, chunks, entries and bytes a query would read (index/stats). */
export function register(program: Command): void {
  const cmd = program
    .command('stats')
    .description('show how many streams, chunks, entries and bytes a query would read')
    .argument('<logql>', 'a stream selector, e.g. {app="api"}');
  addConnectionOptions(cmd);
  addTimeRangeOptions(cmd);
  cmd.option('-o, --output <mode>', 'default (a small table) or raw/jsonl (the JSON object on one line)', 'default');
  asClientCommand(cmd);
  cmd.action((logql: string, opts: StatsFlags) => runAction('stats', () => runStats(logql, opts)));
}

async function runStats(logql: string, flags: StatsFlags): Promise<void> {
  const [{ HttpClient }, opt, { resolveTimeRange }, { CliError }, { write, exitQuietlyOnClosedPipe }, { humanBytes }] = await Promise.all([
    import('./client/http.js'),
    import('./client/options.js'),
    import('./client/time-range.js'),
    import('./client/errors.js'),
    import('./output/write.js'),
    import('./output/table.js'),
  ]);
  const client = new HttpClient(opt.resolveConnection(flags));
  const mode = opt.parseOutputMode(flags.output);
  const range = resolveTimeRange(flags);
  exitQuietlyOnClosedPipe();
  const res = await client.getJson<Record<string, unknown>>('/loki/api/v1/index/stats', { query: logql, start: range.start.toString(), end: range.end.toString() });
  // Loki answers the bare object; accept it wrapped in {status, data} as well.
  const body = (res.data && typeof res.data === 'object' ? res.data : res) as Record<string, unknown>;
  const keys = ['streams', 'chunks', 'entries', 'bytes'] as const;
  for (const k of keys) {
    if (typeof body[k] !== 'number') throw new CliError(`/loki/api/v1/index/stats answered without a number for ${JSON.stringify(k)}`);
  }
  const n = (k: (typeof keys)[number]) => body[k] as number;
  if (mode !== 'default') {
    await write(process.stdout, JSON.stringify({ streams: n('streams'), chunks: n('chunks'), entries: n('entries'), bytes: n('bytes') }) + '\n');
    return;
  }
  await write(process.stdout, `Streams:  ${n('streams')}\nChunks:   ${n('chunks')}\nEntries:  ${n('entries')}\nBytes:    ${humanBytes(n('bytes'))} (${n('bytes')})\n`);
}
