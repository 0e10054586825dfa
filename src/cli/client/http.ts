/**
 * The HTTP client of the CLI: builds API URLs under --addr, sends the tenant and auth headers, and turns every
 * failure into one CliError line — the server's own message for an HTTP error, a plain "cannot reach" for a
 * network failure — so no command ever prints a stack trace.
 */
import { VERSION } from '../../model/version.js';
import { CliError, HttpStatusError, NetworkError, oneLine } from './errors.js';
import type { Connection } from './options.js';

export type Params = Record<string, string | string[] | undefined>;

/**
 * A server's message is printed whole (a long parse error is no use cut in half); only a runaway body, such
 * as a proxy's error page, is cut, at a size no real message reaches.
 */
export const MAX_ERROR_TEXT = 64 * 1024;

export class HttpClient {
  constructor(readonly conn: Connection) {}

  url(path: string, params: Params = {}): URL {
    const url = new URL(this.conn.addr + path);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, item);
    }
    return url;
  }

  headers(): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': `narvi-cli/${VERSION}`, accept: 'application/json' };
    if (this.conn.orgId) h['x-scope-orgid'] = this.conn.orgId;
    if (this.conn.bearerToken) h.authorization = `Bearer ${this.conn.bearerToken}`;
    else if (this.conn.username !== undefined) {
      h.authorization = 'Basic ' + Buffer.from(`${this.conn.username}:${this.conn.password ?? ''}`).toString('base64');
    }
    return h;
  }

  /**
   * Fails (retryably) while the server says it is not ready, e.g. still replaying its WAL after a restart,
   * when a query could see only part of the data. A server without /ready (a proxy that hides it) passes.
   */
  async checkReady(): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url('/ready'), { headers: this.headers() });
      await res.arrayBuffer();
    } catch (err) {
      throw new NetworkError(describeNetworkError(err, this.conn.addr));
    }
    if (res.status >= 500) throw new HttpStatusError(`the server is not ready yet (/ready answered ${res.status})`, res.status);
  }

  /** GETs a JSON API path; a `{"status":"error"}` body is an error even with a 2xx status. */
  async getJson<T>(path: string, params: Params = {}): Promise<T> {
    const url = this.url(path, params);
    let res: Response;
    try {
      res = await fetch(url, { headers: this.headers() });
    } catch (err) {
      throw new NetworkError(describeNetworkError(err, this.conn.addr));
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new NetworkError(`the connection broke while reading the answer to ${path}: ${describeNetworkError(err, this.conn.addr)}`);
    }
    if (!res.ok) throw httpError(res.status, res.statusText, text, path);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CliError(`${path} answered ${res.status} with a body that is not JSON: ${clip(text) || '(empty)'}`);
    }
    const b = body as { status?: unknown; error?: unknown };
    if (b && typeof b === 'object' && typeof b.status === 'string' && b.status !== 'success') {
      throw new CliError(`server error from ${path}: ${typeof b.error === 'string' ? b.error : clip(text)}`);
    }
    return body as T;
  }
}

/** What an HTTP error status means to the user, with the server's message (plain text or JSON). */
export function httpError(status: number, statusText: string, body: string, path: string): HttpStatusError {
  let message = body.trim();
  try {
    const j = JSON.parse(message) as { message?: unknown; error?: unknown };
    if (typeof j.message === 'string') message = j.message;
    else if (typeof j.error === 'string') message = j.error;
  } catch {
    // plain text, as Loki sends most errors
  }
  message = clip(message);
  const head = `server answered ${status}${statusText ? ' ' + statusText : ''}`;
  if (status === 401) return new HttpStatusError(`${head}: ${message || 'authentication required'} (check --org-id, --username/--password or --bearer-token)`, status);
  if (status === 403) return new HttpStatusError(`${head}: ${message || 'forbidden'} (check --org-id and your credentials)`, status);
  if (status === 404) return new HttpStatusError(`${head} for ${path}: ${message || 'not found'} (is --addr a narvi or Loki server?)`, status);
  return new HttpStatusError(message ? `${head}: ${message}` : head, status);
}

/** A network failure in one line, without the undici "fetch failed" wrapper. */
export function describeNetworkError(err: unknown, addr: string): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
  const code = e?.cause?.code ?? e?.cause?.errors?.[0]?.code ?? e?.code;
  const what: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    UND_ERR_SOCKET: 'connection closed by the server',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    CERT_HAS_EXPIRED: 'TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  };
  const reason = (code && what[code]) ?? e?.cause?.message ?? e?.message ?? String(err);
  return `cannot reach narvi at ${addr}: ${oneLine(reason)}${code && what[code] ? '' : code ? ` (${code})` : ''}`;
}

function clip(text: string): string {
  const t = oneLine(text);
  return t.length > MAX_ERROR_TEXT ? t.slice(0, MAX_ERROR_TEXT) + '…' : t;
}
