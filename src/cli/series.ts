import type { Command } from 'commander';
import { runAction } from './client/errors.js';
import { addConnectionOptions, asClientCommand, addTimeRangeOptions, type ConnectionFlags } from './client/options.js';
import type { TimeRangeFlags } from './client/time-range.js';

interface SeriesFlags extends ConnectionFlags, TimeRangeFlags {
  output: string;
  analyzeLabels?: boolean;
}

/** `narvi series <matcher>…`: the streams (label sets) matching any of the selectors. */
export function register(program: Command): void {
  const cmd = program
    .command('series')
    .description('list the streams matching one or more selectors')
    .argument('<matcher...>', 'stream selectors, e.g. {app="api"} {namespace=~"prod-.*"}');
  addConnectionOptions(cmd);
  addTimeRangeOptions(cmd);
  cmd
    .option('-o, --output <mode>', 'default or raw ({a="b", …} per line) or jsonl (one label object per line)', 'default')
    .option('--analyze-labels', 'instead of the streams, print per label how many values it has and in how many streams it appears');
  asClientCommand(cmd);
  cmd.action((matchers: string[], opts: SeriesFlags) => runAction('series', () => runSeries(matchers, opts)));
}

async function runSeries(matchers: string[], flags: SeriesFlags): Promise<void> {
  const [{ HttpClient }, opt, { resolveTimeRange }, { CliError }, { JsonlWriter }, { write, exitQuietlyOnClosedPipe }, { canonicalLabels, sortedLabels }, { formatTable }] = await Promise.all([
    import('./client/http.js'),
    import('./client/options.js'),
    import('./client/time-range.js'),
    import('./client/errors.js'),
    import('./output/jsonl.js'),
    import('./output/write.js'),
    import('../model/labels.js'),
    import('./output/table.js'),
  ]);
  const client = new HttpClient(opt.resolveConnection(flags));
  const mode = opt.parseOutputMode(flags.output);
  const range = resolveTimeRange(flags);
  exitQuietlyOnClosedPipe();
  const res = await client.getJson<{ data?: unknown }>('/loki/api/v1/series', { 'match[]': matchers, start: range.start.toString(), end: range.end.toString() });
  if (!Array.isArray(res.data)) throw new CliError('/loki/api/v1/series answered without a data list; is --addr a narvi or Loki server?');
  const series = (res.data as Record<string, string>[]).map((s) => ({ labels: sortedLabels(s), text: canonicalLabels(s) }));
  series.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));

  if (flags.analyzeLabels) {
    const stats = new Map<string, { values: Set<string>; streams: number }>();
    for (const s of series) {
      for (const [k, v] of Object.entries(s.labels)) {
        let st = stats.get(k);
        if (!st) stats.set(k, (st = { values: new Set(), streams: 0 }));
        st.values.add(v);
        st.streams++;
      }
    }
    const rows = [...stats.entries()]
      .sort((a, b) => b[1].values.size - a[1].values.size || (a[0] < b[0] ? -1 : 1))
      .map(([k, st]) => ({ label: k, uniqueValues: st.values.size, foundInStreams: st.streams }));
    if (mode === 'jsonl') {
      const w = new JsonlWriter(process.stdout);
      for (const r of rows) await w.write(r);
      await w.end();
      return;
    }
    process.stderr.write(`Total streams: ${series.length}\nUnique labels: ${rows.length}\n`);
    if (rows.length > 0) {
      await write(process.stdout, formatTable(['LABEL', 'UNIQUE VALUES', 'FOUND IN STREAMS'], rows.map((r) => [r.label, String(r.uniqueValues), String(r.foundInStreams)]), new Set([1, 2])));
    }
    return;
  }
  if (mode === 'jsonl') {
    const w = new JsonlWriter(process.stdout);
    for (const s of series) await w.write(s.labels);
    await w.end();
  } else if (series.length > 0) {
    await write(process.stdout, series.map((s) => s.text).join('\n') + '\n');
  }
}
