/**
 * The flags the client commands share, spelled as logcli users know them, and their validation. Registration
 * only touches commander; resolving a flag's value happens in the action so bad values get a clear error.
 */
import type { Command } from 'commander';
import { usageError } from './errors.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const DEFAULT_ADDR = 'http://localhost:3100';

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--addr <url>', `server address (env NARVI_ADDR, then LOKI_ADDR; default ${DEFAULT_ADDR})`)
    .option('--org-id <tenant>', 'tenant to query, sent as X-Scope-OrgID (env NARVI_ORG_ID, LOKI_ORG_ID)')
    .option('--username <name>', 'basic auth user name (env NARVI_USERNAME, LOKI_USERNAME)')
    .option('--password <secret>', 'basic auth password (env NARVI_PASSWORD, LOKI_PASSWORD)')
    .option('--bearer-token <token>', 'bearer token for the Authorization header (env NARVI_BEARER_TOKEN, LOKI_BEARER_TOKEN)');
}

export function addTimeRangeOptions(cmd: Command): Command {
  return cmd
    .option('--since <duration>', 'how far back to look from --to (or now)', '1h')
    .option('--from <time>', 'start, inclusive: RFC3339, Unix seconds/nanoseconds, or a duration back from now like 2h')
    .option('--to <time>', 'end, exclusive: RFC3339, Unix seconds/nanoseconds, or a duration back from now like 10m');
}

/** Flags that shape how log lines and metric results are printed. */
export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('-o, --output <mode>', 'default (time, labels, line), raw (line only) or jsonl (one JSON object per line)', 'default')
    .option('-q, --quiet', 'do not print the common labels, progress or reconnect notices on stderr')
    .option('--no-labels', 'do not print any labels')
    .option('--include-label <name>', 'print only these labels (repeatable)', collect, [])
    .option('--exclude-label <name>', 'do not print these labels (repeatable)', collect, [])
    .option('-z, --timezone <zone>', 'time zone of printed timestamps: Local, UTC or an IANA name like Europe/Paris', 'Local');
}

export interface ConnectionFlags {
  addr?: string;
  orgId?: string;
  username?: string;
  password?: string;
  bearerToken?: string;
}

export interface Connection {
  /** Base URL without a trailing slash; may carry a path prefix when the server sits behind a proxy. */
  addr: string;
  orgId?: string;
  username?: string;
  password?: string;
  bearerToken?: string;
}

/** Flags win, then NARVI_* variables, then LOKI_* ones, so a logcli environment works unchanged. */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const pick = (flag: string | undefined, name: string) => flag ?? env[`NARVI_${name}`] ?? env[`LOKI_${name}`] ?? undefined;
  const raw = pick(flags.addr, 'ADDR') || DEFAULT_ADDR;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--addr ${JSON.stringify(raw)} is not a URL: use http://host:port or https://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--addr ${JSON.stringify(raw)} has scheme ${url.protocol.replace(':', '')}: only http and https are allowed`);
  }
  const conn: Connection = { addr: url.toString().replace(/\/+$/, '') };
  const orgId = pick(flags.orgId, 'ORG_ID');
  const username = pick(flags.username, 'USERNAME');
  const password = pick(flags.password, 'PASSWORD');
  const bearerToken = pick(flags.bearerToken, 'BEARER_TOKEN');
  if (orgId) conn.orgId = orgId;
  if (username !== undefined) conn.username = username;
  if (password !== undefined) conn.password = password;
  if (bearerToken) conn.bearerToken = bearerToken;
  if (conn.bearerToken && (conn.username || conn.password)) {
    throw usageError('--bearer-token and --username/--password are both set: use one way to authenticate');
  }
  if (conn.password !== undefined && conn.username === undefined) throw usageError('--password needs --username');
  return conn;
}

export type OutputMode = 'default' | 'raw' | 'jsonl';

export function parseOutputMode(value: string): OutputMode {
  if (value === 'default' || value === 'raw' || value === 'jsonl') return value;
  throw usageError(`--output ${JSON.stringify(value)} is not an output mode: use default, raw or jsonl`);
}

/** A count flag: digits only, so `--limit 1e3` or `--limit -1` are refused rather than guessed at. */
export function parseCount(flag: string, value: string | number, opts: { min?: number; max?: number } = {}): number {
  const min = opts.min ?? 0;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || (opts.max !== undefined && n > opts.max)) {
    const range = opts.max !== undefined ? `between ${min} and ${opts.max}` : `${min} or more`;
    throw usageError(`${flag} ${JSON.stringify(text)} is not a whole number ${range}`);
  }
  return n;
}

/**
 * Commander's own usage errors (unknown option, missing argument) in the CLI's format: one line naming the
 * command, exit code 2 like every other usage error.
 */
export function asClientCommand(cmd: Command): Command {
  return cmd
    .configureOutput({ outputError: (text, write) => write(`narvi ${cmd.name()}: ${text.replace(/^error: /, '')}`) })
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
}
