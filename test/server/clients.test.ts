import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import { beforeEach, describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { suiteServer, waitFor, type RunningServer } from '../helpers/server.js';

// Real third-party Loki clients, exactly as applications use them, against the real server.
const suite = suiteServer();
let server: RunningServer;
beforeEach(() => {
  server = suite();
});

async function entriesOf(app: string) {
  return (await readAllEntries(server)).filter((e) => e.labels.app === app);
}

describe('winston-loki', () => {
  it('pushes protobuf+snappy batches that are stored with their labels', async () => {
    const transport = new LokiTransport({ host: server.url, labels: { app: 'winston-pb' }, json: false, batching: true, interval: 0.2, onConnectionError: (e: unknown) => console.error(e) });
    // It silently falls back to JSON when the native snappy module is missing; make sure this test covers protobuf.
    expect((transport as unknown as { batcher: { contentType: string } }).batcher.contentType).toBe('application/x-protobuf');
    const logger = winston.createLogger({ transports: [transport] });
    for (let i = 0; i < 50; i++) logger.info(`winston protobuf line ${i}`, { requestId: `r${i}` });
    logger.warn('a warning');
    await transport.flush();
    const got = await entriesOf('winston-pb');
    expect(got).toHaveLength(51);
    const info = got.filter((e) => e.labels.level === 'info').map((e) => e.line);
    // winston-loki appends the log's other fields as JSON to the message.
    expect(info).toContain('winston protobuf line 7 {"requestId":"r7","level":"info"}');
    expect(got.find((e) => e.labels.level === 'warn')!.line).toBe('a warning {"level":"warn"}');
    transport.close?.();
  });

  it('pushes JSON with 3-element values (structured metadata)', async () => {
    const transport = new LokiTransport({ host: server.url, labels: { app: 'winston-json' }, json: true, batching: true, interval: 0.2 });
    const logger = winston.createLogger({ transports: [transport] });
    for (let i = 0; i < 20; i++) logger.error(`winston json line ${i}`, { attempt: i });
    await transport.flush();
    const got = await entriesOf('winston-json');
    expect(got).toHaveLength(20);
    const e = got.find((x) => x.line.startsWith('winston json line 3 '))!;
    expect(e.labels).toEqual({ app: 'winston-json', level: 'error' });
    expect(e.metadata).toEqual({ attempt: '3', level: 'error' });
    transport.close?.();
  });
});

describe('pino-loki', () => {
  it('pushes JSON lines that are stored with their labels and levels', async () => {
    const stream = pinoLoki({ host: server.url, labels: { app: 'pino' }, batching: false, silenceErrors: false });
    const logger = pino({ level: 'info' }, stream);
    for (let i = 0; i < 30; i++) logger.info({ n: i }, `pino line ${i}`);
    logger.error('pino failure');
    const got = await waitFor(async () => {
      const g = await entriesOf('pino');
      return g.length === 31 ? g : null;
    }, '31 pino lines in the store');
    const lines = got.map((e) => JSON.parse(e.line) as { msg: string; n?: number });
    expect(lines.map((l) => l.msg).sort()).toContain('pino line 12');
    expect(lines.find((l) => l.msg === 'pino line 12')!.n).toBe(12);
    expect(new Set(got.map((e) => e.labels.level))).toEqual(new Set(['info', 'error']));
    stream.end();
  });
});
