import type { Readable } from 'node:stream';
import type { Labels } from '../src/model/labels.js';
import type { Sink } from './batcher.js';
import { LineSplitter } from './line-splitter.js';
import type { AgentMetrics } from './metrics.js';
import type { Format } from './parsed-line.js';
import type { Pipeline } from './pipeline.js';
import { MonotonicClock, RecordChain } from './record-chain.js';

/**
 * `--stdin`: ships lines piped into the agent (`kubectl logs … | narvi agent --stdin …`). There is nothing to
 * resume from, so no positions; the stream is paused while the batcher is full. Resolves at end of input.
 */
export async function shipStdin(
  input: Readable,
  o: { labels: Labels; format: Format; maxLineSize: number; pipeline: Pipeline; sink: Sink; metrics: AgentMetrics },
): Promise<void> {
  const chain = new RecordChain({ format: o.format, labels: o.labels, maxLineSize: o.maxLineSize, pipeline: o.pipeline, sink: o.sink, metrics: o.metrics });
  const clock = new MonotonicClock();
  const splitter = new LineSplitter(o.format === 'plain' ? o.maxLineSize : o.maxLineSize + 64 * 1024, () => o.metrics.truncatedLines.inc());
  const onRaw = (raw: string, start: number, end: number) => chain.push(raw, start, end, clock.now());
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    o.metrics.readBytes.inc(buf.length);
    o.metrics.readLines.inc(splitter.push(buf, onRaw));
    if (!o.sink.hasRoom()) await o.sink.waitForRoom();
  }
  splitter.flush(onRaw);
  chain.flush();
}
