/**
 * A write that the disk refused. A full disk (or quota) is 507 Insufficient Storage: the client should
 * retry once space is back; any other I/O failure is 503. Either way the push was not made durable and
 * nothing of it was kept.
 */
export class StorageWriteError extends Error {
  constructor(
    message: string,
    readonly status: 507 | 503,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const IO = new Set(['EIO', 'EROFS', 'EFBIG', 'ENOMEM', 'EBADF', 'EMFILE', 'ENFILE', 'EACCES', 'EPERM', 'ENOENT', 'ESTALE']);

/** 507 for a full disk, 503 for another I/O failure, null for an error that is not about storage. */
export function storageStatus(err: unknown): 507 | 503 | null {
  if (err instanceof StorageWriteError) return err.status;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (FULL.has(code)) return 507;
  if (IO.has(code) || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') return 503;
  return null;
}

/** Wraps a failed write as a StorageWriteError whose message says what could not be written and why. */
export function storageWriteError(what: string, err: unknown): StorageWriteError {
  if (err instanceof StorageWriteError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const status = storageStatus(err) ?? 503;
  const why = status === 507 ? 'the disk is full; retry once space is freed' : 'retry later';
  return new StorageWriteError(`${what} failed: ${(err as Error).message} (${why})`, status, typeof code === 'string' ? code : undefined);
}
