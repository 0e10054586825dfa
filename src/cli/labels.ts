import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { addConnectionOptions, asClientCommand, addTimeRangeOptions, type ConnectionFlags } from './client/options.js';
import type { TimeRangeFlags } from './client/time-range.js';

interface LabelsFlags extends ConnectionFlags, TimeRangeFlags {
  query?: string;
  output: string;
}

/** `narvi labels [name]`: the label names, or the values of one label, seen in the time range. */
export function register(program: Command): void {
  const cmd = program
    .command('labels')
    .description('list label names, or the values of one label')
    .argument('[name]', 'a label name: list its values instead of the names');
  addConnectionOptions(cmd);
  addTimeRangeOptions(cmd);
  cmd
    .option('--query <selector>', 'only streams matching this selector, e.g. {app="api"}')
    .option('-o, --output <mode>', 'default or raw (one per line) or jsonl ({"label":…} / {"label":…,"value":…} per line)', 'default');
  asClientCommand(cmd);
  cmd.action((name: string | undefined, opts: LabelsFlags) => runAction('labels', () => runLabels(name, opts)));
}

async function runLabels(name: string | undefined, flags: LabelsFlags): Promise<void> {
  const [{ HttpClient }, opt, { resolveTimeRange }, { CliError, usageError }, { JsonlWriter }, { write, exitQuietlyOnClosedPipe }, { isValidLabelName }] = await Promise.all([
    import('./client/http.js'),
    import('./client/options.js'),
    import('./client/time-range.js'),
    import('./client/errors.js'),
    import('./output/jsonl.js'),
    import('./output/write.js'),
    import('../model/labels.js'),
  ]);
  if (name !== undefined && !isValidLabelName(name)) {
    throw usageError(`label name ${JSON.stringify(name)} is not valid: names match [a-zA-Z_][a-zA-Z0-9_]*`);
  }
  const client = new HttpClient(opt.resolveConnection(flags));
  const mode = opt.parseOutputMode(flags.output);
  const range = resolveTimeRange(flags);
  exitQuietlyOnClosedPipe();
  const path = name === undefined ? '/loki/api/v1/labels' : `/loki/api/v1/label/${encodeURIComponent(name)}/values`;
  const res = await client.getJson<{ data?: unknown }>(path, { start: range.start.toString(), end: range.end.toString(), query: flags.query });
  if (!Array.isArray(res.data) || res.data.some((v) => typeof v !== 'string')) {
    throw new CliError(`${path} answered without a data list of strings; is --addr a narvi or Loki server?`);
  }
  const items = [...(res.data as string[])].sort();
  if (mode === 'jsonl') {
    const w = new JsonlWriter(process.stdout);
    for (const v of items) await w.write(name === undefined ? { label: v } : { label: name, value: v });
    await w.end();
  } else if (items.length > 0) {
    await write(process.stdout, items.join('\n') + '\n');
  }
}
