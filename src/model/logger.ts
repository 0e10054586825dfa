/** logfmt lines on stderr: `level=info component=ingester msg="flushed" chunks=3`. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
  /** The level this logger and its children share, changed at runtime by `POST /log_level`; absent on loggers that cannot change. */
  level?: LevelSwitch;
}

/** A level shared by a logger and all its children, so one change reaches every component at once. */
export interface LevelSwitch {
  current: Level;
}

export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

function fmtValue(v: unknown): string {
  if (v instanceof Error) v = v.message;
  const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
  if (s === undefined) return '""';
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

export function createLogger(level: Level | LevelSwitch = 'info', component = 'narvi', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const sw: LevelSwitch = typeof level === 'string' ? { current: level } : level;
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[sw.current]) return;
    let line = `ts=${new Date().toISOString()} level=${lvl} component=${component} msg=${JSON.stringify(msg)}`;
    if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) line += ` ${k}=${fmtValue(v)}`;
    write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger(sw, c, write),
    level: sw,
  };
}

/** A logger that discards everything: for unit tests that do not look at logs. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
