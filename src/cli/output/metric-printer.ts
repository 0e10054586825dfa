/** Prints a metric result in the chosen --output mode. */
import { canonicalLabels } from '../../model/labels.js';
import type { QueryData } from '../client/loki-types.js';
import type { OutputMode } from '../client/options.js';
import { JsonlWriter } from './jsonl.js';
import { metricTable } from './metric-table.js';
import type { TimeZone } from './time-format.js';
import { write } from './write.js';

export interface MetricPrintOptions {
  mode: OutputMode;
  quiet: boolean;
  tz: TimeZone;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/**
 * default: a table; jsonl: one object per series (`{"metric":…,"values":[…]}` for a range, `{"metric":…,
 * "value":[…]}` for an instant) exactly as the API shapes them; raw: the API's `result` JSON on one line.
 */
export async function printMetricData(data: Exclude<QueryData, { resultType: 'streams' }>, o: MetricPrintOptions): Promise<void> {
  if (o.mode === 'raw') {
    await write(o.out, JSON.stringify(data.result) + '\n');
    return;
  }
  if (o.mode === 'jsonl') {
    const w = new JsonlWriter(o.out);
    if (data.resultType === 'scalar') await w.write({ value: data.result });
    else for (const s of data.result) await w.write(s);
    await w.end();
    return;
  }
  const t = metricTable(data, o.tz);
  if (!o.quiet && Object.keys(t.common).length > 0) o.err.write(`Common labels: ${canonicalLabels(t.common)}\n`);
  if (t.series === 0) {
    if (!o.quiet) o.err.write('no series matched\n');
    return;
  }
  await write(o.out, t.table);
}
