/**
 * Deterministic, streaming generator of realistic log traffic for benchmarks: ~50 streams (Kubernetes-
 * style labels), each speaking one format — JSON, logfmt or nginx access lines — with levels at
 * realistic frequencies, random request ids (so compression is not flattered), a rare needle every
 * `needleEvery` lines and one unique needle, for search benchmarks. Same seed, same bytes.
 */
import { canonicalLabels } from '../src/model/labels.js';

export type LineFormat = 'json' | 'logfmt' | 'nginx';

export interface GeneratedStream {
  labels: Record<string, string>;
  /** canonicalLabels() of `labels`. */
  labelString: string;
  format: LineFormat;
}

export interface GeneratedLine {
  /** Index into `streams`. */
  stream: number;
  /** Nanoseconds; ascending overall, hence within every stream. */
  ts: bigint;
  line: string;
}

export interface GenerateOptions {
  seed?: number;
  /** Number of distinct streams (label sets); default 50. */
  streams?: number;
  /** First timestamp in ns; default 2024-11-21T12:00:00Z. */
  startNs?: bigint;
  /** Mean gap between consecutive lines over all streams, in ns; default 1 ms. */
  meanStepNs?: number;
  /** Stop after this many lines … */
  maxLines?: number;
  /** … or once this many line bytes (UTF-8) were produced, whichever comes first. Default: unbounded. */
  maxBytes?: number;
  /** A line carrying RARE_NEEDLE every this many lines; default 100 000. */
  needleEvery?: number;
  /** The single line carrying UNIQUE_NEEDLE; default line 12 345. */
  uniqueAt?: number;
}

/** Appears once every `needleEvery` lines (at lines needleEvery/2, needleEvery*1.5, …). */
export const RARE_NEEDLE = 'req-7f3e9a1c-needle';
/** Appears on exactly one line. */
export const UNIQUE_NEEDLE = 'trace-0d15ea5e-unique';

/** mulberry32: tiny, fast, good enough for synthetic data, and identical everywhere. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS: { app: string; namespace: string; format: LineFormat; weight: number }[] = [
  { app: 'api-gateway', namespace: 'prod', format: 'json', weight: 10 },
  { app: 'checkout', namespace: 'prod', format: 'json', weight: 6 },
  { app: 'payments', namespace: 'prod', format: 'logfmt', weight: 4 },
  { app: 'auth', namespace: 'prod', format: 'logfmt', weight: 5 },
  { app: 'ingress-nginx', namespace: 'ingress', format: 'nginx', weight: 12 },
  { app: 'frontend', namespace: 'prod', format: 'nginx', weight: 7 },
  { app: 'search', namespace: 'prod', format: 'json', weight: 3 },
  { app: 'inventory', namespace: 'staging', format: 'logfmt', weight: 2 },
  { app: 'coredns', namespace: 'kube-system', format: 'logfmt', weight: 1 },
  { app: 'worker', namespace: 'batch', format: 'json', weight: 2 },
];

const LEVELS: [string, number][] = [
  ['info', 0.7],
  ['debug', 0.15],
  ['warn', 0.1],
  ['error', 0.05],
];

const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'];
const PATHS = ['/api/v1/users', '/api/v1/orders', '/api/v1/items', '/api/v1/cart', '/healthz', '/api/v2/search', '/static/app.js', '/login', '/api/v1/payments'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'curl/8.4.0',
  'kube-probe/1.28',
  'Go-http-client/2.0',
];
const MESSAGES: Record<string, string[]> = {
  info: ['request completed', 'cache hit', 'order created', 'user logged in', 'job finished', 'connection established'],
  debug: ['resolved upstream', 'query plan chosen', 'retrying lookup', 'token refreshed'],
  warn: ['slow request', 'retrying after timeout', 'cache miss rate high', 'deprecated API used'],
  error: ['upstream returned 503', 'database connection refused', 'payment declined: card expired', 'context deadline exceeded'],
};
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function hex(rand: () => number, n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(rand() * 4294967296).toString(16).padStart(8, '0');
  return s.slice(0, n);
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function pickLevel(rand: () => number, stderr: boolean): string {
  let r = rand();
  // stderr streams carry most warnings and errors.
  if (stderr) r = 0.55 + r * 0.45;
  for (const [lvl, p] of LEVELS) {
    if (r < p) return lvl;
    r -= p;
  }
  return 'error';
}

/** The stream label sets, weighted towards a few busy apps. Deterministic for a given seed and count. */
export function generateStreams(count = 50, seed = 1): GeneratedStream[] {
  const rand = prng(seed ^ 0x5eed);
  const out: GeneratedStream[] = [];
  for (let i = 0; i < count; i++) {
    const a = APPS[i % APPS.length]!;
    const replica = Math.floor(i / APPS.length);
    const pod = `${a.app}-${hex(rand, 9)}-${hex(rand, 5)}`;
    const labels: Record<string, string> = {
      app: a.app,
      namespace: a.namespace,
      pod,
      container: a.app,
      node: `node-${(i * 7) % 12}`,
      stream: replica % 3 === 2 ? 'stderr' : 'stdout',
      job: `${a.namespace}/${a.app}`,
    };
    out.push({ labels, labelString: canonicalLabels(labels), format: a.format });
  }
  return out;
}

function formatLine(rand: () => number, s: GeneratedStream, ts: bigint, extra: string | undefined): string {
  const ms = Number(ts / 1_000_000n);
  const d = new Date(ms);
  const level = pickLevel(rand, s.labels.stream === 'stderr');
  const method = pick(rand, METHODS);
  const path = `${pick(rand, PATHS)}${rand() < 0.5 ? `/${Math.floor(rand() * 100000)}` : ''}`;
  const status = level === 'error' ? pick(rand, [500, 502, 503, 504]) : level === 'warn' ? pick(rand, [404, 429, 200]) : rand() < 0.9 ? 200 : pick(rand, [201, 204, 301, 304]);
  const durMs = Math.round(rand() * rand() * 2000 * 100) / 100;
  const reqId = extra ?? hex(rand, 16);
  switch (s.format) {
    case 'json':
      return JSON.stringify({
        ts: d.toISOString(),
        level,
        logger: `${s.labels.app}.http`,
        msg: pick(rand, MESSAGES[level]!),
        method,
        path,
        status,
        duration_ms: durMs,
        request_id: reqId,
        user_id: Math.floor(rand() * 50000),
      });
    case 'logfmt':
      return `ts=${d.toISOString()} level=${level} caller=handler.go:${100 + Math.floor(rand() * 400)} msg="${pick(rand, MESSAGES[level]!)}" method=${method} path=${path} status=${status} duration=${durMs}ms request_id=${reqId}`;
    case 'nginx': {
      const ip = `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
      const p2 = (n: number) => String(n).padStart(2, '0');
      const when = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
      const bytes = Math.floor(rand() * 20000);
      return `${ip} - - [${when}] "${method} ${path} HTTP/1.1" ${status} ${bytes} "-" "${pick(rand, AGENTS)}" ${(durMs / 1000).toFixed(3)} req_id=${reqId}`;
    }
  }
}

/**
 * Yields lines across all streams in time order. Lines are produced one by one, so callers can stream
 * arbitrarily large volumes without holding them.
 */
export function* generateLines(opts: GenerateOptions = {}): Generator<GeneratedLine> {
  const seed = opts.seed ?? 1;
  const rand = prng(seed);
  const streams = generateStreams(opts.streams ?? 50, seed);
  // Busy streams dominate, as in real clusters: weight by app weight, times a per-pod factor.
  const weights = streams.map((s, i) => APPS.find((a) => a.app === s.labels.app)!.weight * (1 + (i % 4)));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));

  const needleEvery = opts.needleEvery ?? 100_000;
  const uniqueAt = opts.uniqueAt ?? 12_345;
  const maxLines = opts.maxLines ?? Infinity;
  const maxBytes = opts.maxBytes ?? Infinity;
  const meanStep = opts.meanStepNs ?? 1_000_000;
  let ts = opts.startNs ?? 1_732_190_400_000_000_000n;
  let bytes = 0;
  for (let i = 0; i < maxLines && bytes < maxBytes; i++) {
    ts += BigInt(Math.floor(rand() * 2 * meanStep));
    const r = rand();
    let stream = cumulative.findIndex((c) => r < c);
    if (stream < 0) stream = streams.length - 1;
    const extra = i === uniqueAt ? UNIQUE_NEEDLE : i % needleEvery === Math.floor(needleEvery / 2) ? RARE_NEEDLE : undefined;
    const line = formatLine(rand, streams[stream]!, ts, extra);
    bytes += Buffer.byteLength(line);
    yield { stream, ts, line };
  }
}
