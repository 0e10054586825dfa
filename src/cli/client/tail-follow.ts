/**
 * Live tail over the WebSocket API that never loses its place. Every printed entry moves a Boundary; when the
 * connection ends (server restart, the server's tail time limit, a network blip) the follower backs off,
 * reads what it missed with paged query_range calls from the boundary up to now, then reopens the tail from
 * the boundary. Entries on the boundary timestamp that were already printed are recognised and skipped, so
 * no line is printed twice and none in between is skipped.
 */
import WebSocket from 'ws';
import { Boundary } from './boundary.js';
import { CliError, isRetryable, NetworkError } from './errors.js';
import { describeNetworkError, httpError, MAX_ERROR_TEXT, type HttpClient } from './http.js';
import { entriesOf, type LogEntry } from './log-entry.js';
import type { TailFrame } from './loki-types.js';
import { pageLogQuery } from './log-pager.js';
import { formatRFC3339Nano, nowNs } from '../../model/time.js';

export interface TailRequest {
  query: string;
  /** Where the first connection starts (the server first replays up to `limit` entries from here). */
  start: bigint;
  limit: number;
  delayForSeconds: number;
  /** Page size for catching up after a reconnect. */
  batch: number;
}

export interface TailSink {
  entries(entries: LogEntry[]): Promise<void>;
  /** Connection notices (lost, reconnecting, resumed); --quiet hides them. */
  notice(message: string): void;
  /** Things the user must know even with --quiet, such as entries the server dropped. */
  warn(message: string): void;
}

export interface TailControl {
  signal?: AbortSignal;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A ping goes out this often; a connection silent for two intervals is considered dead. */
  heartbeatMs?: number;
}

const STABLE_MS = 5_000;

type SessionEnd = { opened: boolean; reason: string; fatal?: CliError };

export async function followTail(client: HttpClient, req: TailRequest, sink: TailSink, ctl: TailControl = {}): Promise<void> {
  const minBackoff = ctl.minBackoffMs ?? 250;
  const maxBackoff = ctl.maxBackoffMs ?? 10_000;
  const boundary = new Boundary('forward', 'new');
  let everOpened = false;
  let backoff = minBackoff;
  let openedAt = 0;

  const deliver = async (entries: LogEntry[]) => {
    const fresh = entries.filter((e) => boundary.admit(e));
    if (fresh.length > 0) await sink.entries(fresh);
  };

  while (!ctl.signal?.aborted) {
    let reason: string;
    let opened = false;
    try {
      // The pager admits entries through the boundary itself; hand its pages straight to the printer.
      if (everOpened) {
        await client.checkReady();
        await catchUp(client, req, boundary, (es) => sink.entries(es));
      }
      const start = boundary.ts ?? req.start;
      // After a reconnect the gap is already filled; the replay only has to cover the moment of reopening.
      const limit = everOpened ? Math.max(req.limit, req.batch) : req.limit;
      const end = await session(client, { ...req, start, limit }, deliver, sink, ctl, () => {
        opened = true;
        if (everOpened) sink.notice(`reconnected; resuming from ${formatRFC3339Nano(boundary.ts ?? start)}`);
        everOpened = true;
        openedAt = Date.now();
      });
      if (end.fatal) throw end.fatal;
      reason = end.reason;
    } catch (err) {
      if (!everOpened || !isRetryable(err)) throw err;
      reason = (err as Error).message;
    }
    if (ctl.signal?.aborted) return;
    if (!everOpened) throw new NetworkError(reason);
    // A connection that stayed up a while earns a quick retry; one that keeps dropping at once backs off.
    if (opened && Date.now() - openedAt >= STABLE_MS) backoff = minBackoff;
    sink.notice(`tail ${opened ? 'connection closed' : 'not reconnected'} (${reason}); retrying in ${formatMs(backoff)}`);
    await sleep(backoff, ctl.signal);
    backoff = Math.min(backoff * 2, maxBackoff);
  }
}

/** Reads everything from the boundary up to now, so a long outage costs nothing but time. */
async function catchUp(client: HttpClient, req: TailRequest, boundary: Boundary, print: (e: LogEntry[]) => Promise<void>): Promise<void> {
  const start = boundary.ts ?? req.start;
  const end = nowNs() + 1n;
  if (start >= end) return;
  const result = await pageLogQuery(
    client,
    { query: req.query, range: { start, end }, direction: 'forward', limit: 0, batch: req.batch },
    { entries: print },
    boundary,
  );
  if (result.kind !== 'streams') throw new CliError('tail needs a log query, but the server answered a metric result');
}

function session(
  client: HttpClient,
  req: TailRequest,
  deliver: (e: LogEntry[]) => Promise<void>,
  sink: TailSink,
  ctl: TailControl,
  onOpen: () => void,
): Promise<SessionEnd> {
  const url = client.url('/loki/api/v1/tail', {
    query: req.query,
    limit: String(req.limit),
    delay_for: String(req.delayForSeconds),
    start: req.start.toString(),
  });
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const heartbeatMs = ctl.heartbeatMs ?? 30_000;

  return new Promise<SessionEnd>((resolve) => {
    const ws = new WebSocket(url, { headers: client.headers(), handshakeTimeout: 15_000 });
    let opened = false;
    let fatal: CliError | undefined;
    let failure = '';
    let alive = true;
    let chain = Promise.resolve();
    let heartbeat: NodeJS.Timeout | undefined;

    const onAbort = () => ws.terminate();
    ctl.signal?.addEventListener('abort', onAbort, { once: true });

    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < MAX_ERROR_TEXT) body += d;
      });
      res.on('end', () => {
        const err = httpError(res.statusCode ?? 0, res.statusMessage ?? '', body, '/loki/api/v1/tail');
        if (isRetryable(err)) failure = err.message;
        else fatal = err;
        ws.terminate();
      });
      res.on('error', () => ws.terminate());
    });
    ws.on('open', () => {
      opened = true;
      onOpen();
      heartbeat = setInterval(() => {
        if (!alive) {
          failure = `no answer from the server for ${formatMs(heartbeatMs)}`;
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, heartbeatMs);
      heartbeat.unref();
    });
    ws.on('pong', () => (alive = true));
    ws.on('message', (data) => {
      alive = true;
      // Print frames strictly in order, and stop reading the socket while the output is behind.
      ws.pause();
      chain = chain
        .then(() => handleFrame(data.toString(), deliver, sink))
        .then(
          () => ws.resume(),
          (err: unknown) => {
            fatal = err instanceof CliError ? err : new CliError(`tail failed: ${(err as Error).message}`);
            ws.terminate();
          },
        );
    });
    ws.on('error', (err) => {
      if (!failure) failure = describeNetworkError(err, client.conn.addr);
    });
    ws.on('close', (code, reasonBuf) => {
      clearInterval(heartbeat);
      ctl.signal?.removeEventListener('abort', onAbort);
      const reason = reasonBuf.toString();
      // A server that accepts the upgrade and then refuses the request (bad query, no tenant) says so with
      // a policy close code; retrying would only repeat the refusal.
      if (!fatal && (code === 1003 || code === 1008 || (code >= 4400 && code < 4500))) {
        fatal = new CliError(`server refused the tail: ${reason || `close code ${code}`}`);
      }
      // Frames already received are printed before anyone reconnects or exits.
      void chain.then(() =>
        resolve({
          opened,
          fatal,
          reason: failure || (reason ? `code ${code}: ${reason}` : `code ${code}`),
        }),
      );
    });
  });
}

async function handleFrame(text: string, deliver: (e: LogEntry[]) => Promise<void>, sink: TailSink): Promise<void> {
  let frame: TailFrame;
  try {
    frame = JSON.parse(text) as TailFrame;
  } catch {
    throw new CliError(`the tail connection sent a frame that is not JSON: ${text.slice(0, 200)}`);
  }
  if (frame.streams?.length) await deliver(entriesOf(frame.streams, 'forward'));
  const dropped = frame.dropped_entries?.length ?? 0;
  if (dropped > 0) sink.warn(`the server dropped ${dropped} entries because this client read too slowly`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
}
