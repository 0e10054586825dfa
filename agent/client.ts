import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { AgentConfig } from './config.js';
import type { StreamBuffer } from './stream-buffer.js';
import { VERSION } from '../src/model/version.js';

// snappyjs ships no type declarations. Its compressor class is used directly so the output buffer can be
// reused across batches instead of allocating (and zeroing) a fresh megabyte per push.
interface SnappyCompressorT {
  maxCompressedLength(): number;
  compressToBuffer(out: Uint8Array): number;
}
const { SnappyCompressor } = createRequire(import.meta.url)('snappyjs/snappy_compressor.js') as {
  SnappyCompressor: new (input: Uint8Array) => SnappyCompressorT;
};

export type PushOutcome =
  | { kind: 'ok'; status: number }
  /** 429, 5xx or a network failure: send the same batch again later. */
  | { kind: 'retry'; status: number | 'error'; message: string }
  /** Any other 4xx: the server will never take this batch. */
  | { kind: 'reject'; status: number; message: string };

/** Encodes and sends one push request. Never throws: every failure is an outcome. */
export class PushClient {
  private readonly headers: Record<string, string>;
  // Scratch buffers reused for every batch: the batcher sends one batch at a time and a body is not
  // touched again once the next batch is being encoded.
  private raw = Buffer.allocUnsafe(0);
  private compressed = Buffer.allocUnsafe(0);

  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly cfg: AgentConfig['client']) {
    this.url = new URL(cfg.url);
    this.agent = this.url.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 2 }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
    const h: Record<string, string> = {
      'content-type': cfg.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      'user-agent': `narvi-agent/${VERSION}`,
    };
    if (cfg.gzip) h['content-encoding'] = 'gzip';
    if (cfg.tenantId) h['x-scope-orgid'] = cfg.tenantId;
    if (cfg.bearerToken) h.authorization = `Bearer ${cfg.bearerToken}`;
    else if (cfg.basicAuth) h.authorization = 'Basic ' + Buffer.from(`${cfg.basicAuth.username}:${cfg.basicAuth.password}`).toString('base64');
    this.headers = h;
  }

  /** The request body for a batch's streams: snappy-compressed protobuf, or JSON; gzipped when configured. */
  encode(streams: StreamBuffer[]): Uint8Array {
    let body: Uint8Array;
    if (this.cfg.encoding === 'json') {
      body = Buffer.from(`{"streams":[${streams.map((s) => s.jsonStream(JSON.stringify(labelsObject(s.labels)))).join(',')}]}`);
    } else {
      let size = 0;
      for (const s of streams) size += s.protoSize();
      if (this.raw.length < size) this.raw = Buffer.allocUnsafe(Math.max(size, this.raw.length * 2));
      let pos = 0;
      for (const s of streams) pos = s.writeProto(this.raw, pos);
      const c = new SnappyCompressor(this.raw.subarray(0, pos));
      const max = c.maxCompressedLength();
      if (this.compressed.length < max) this.compressed = Buffer.allocUnsafe(Math.max(max, this.compressed.length * 2));
      body = this.compressed.subarray(0, c.compressToBuffer(this.compressed));
    }
    return this.cfg.gzip ? gzipSync(body, { level: 1 }) : body;
  }

  /**
   * One POST over a kept-alive connection. node:http rather than fetch: fetch loads undici on first use,
   * a sizeable one-off memory spike for a process meant to stay small on every node.
   */
  send(body: Uint8Array): Promise<PushOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (o: PushOutcome) => {
        if (!settled) {
          settled = true;
          resolve(o);
        }
      };
      const req = (this.url.protocol === 'https:' ? https : http).request(
        this.url,
        { method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': String(body.length) }, timeout: this.cfg.timeoutMs },
        (res) => {
          const parts: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            if (size < 4096) parts.push(d);
            size += d.length;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(parts).toString('utf8').trim().slice(0, 500);
            if (status >= 200 && status < 300) done({ kind: 'ok', status });
            else if (status === 429 || status >= 500) done({ kind: 'retry', status, message: text });
            else done({ kind: 'reject', status, message: text });
          });
          res.on('error', (err) => done({ kind: 'retry', status: 'error', message: err.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no response within ${this.cfg.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => done({ kind: 'retry', status: 'error', message: err.code ?? err.message }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

// JSON push wants the labels as an object; streams are keyed by their canonical text, parsed back here.
const labelCache = new Map<string, Record<string, string>>();
function labelsObject(canonical: string): Record<string, string> {
  let o = labelCache.get(canonical);
  if (!o) {
    o = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)=("(?:[^"\\]|\\.)*")/g;
    for (let m = re.exec(canonical); m; m = re.exec(canonical)) o[m[1]!] = JSON.parse(m[2]!) as string;
    if (labelCache.size > 10_000) labelCache.clear();
    labelCache.set(canonical, o);
  }
  return o;
}
