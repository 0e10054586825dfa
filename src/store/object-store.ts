/**
 * Where chunk objects (and shipped index files) live. Keys are '/'-separated relative paths such as
 * `fake/chunks/<fingerprint>/<from>-<through>-<crc>`; every backend validates them the same way so a
 * key that works on one works on all, and no key can escape its root or prefix.
 */
export interface ObjectStore {
  /** Stores `data` under `key`, replacing any previous object; when it resolves the object is durable. */
  put(key: string, data: Buffer): Promise<void>;
  /** The object's bytes; rejects with ObjectNotFoundError when there is none. */
  get(key: string): Promise<Buffer>;
  /** Removes the object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every key starting with `prefix` (a plain string prefix, '' for all), in ascending byte order. */
  list(prefix: string): AsyncIterable<string>;
  exists(key: string): Promise<boolean>;
  /** Size and last-modified time (ms since the epoch), or null when there is no such object. */
  stat(key: string): Promise<{ size: number; modifiedMs: number } | null>;
  /**
   * Stores every item, all durable when it resolves: for bulk writes at start-up (chunks flushed while
   * the WAL replays), where one durability barrier for the lot is far cheaper than one per object. It
   * may block the event loop while it writes. A rejection may leave some items stored and some not.
   */
  putMany?(items: readonly ObjectWrite[]): Promise<void>;
}

export interface ObjectWrite {
  key: string;
  data: Buffer;
}

/** `store.putMany` where the backend has it, else puts `concurrency` at a time. */
export async function putAll(store: ObjectStore, items: readonly ObjectWrite[], concurrency: number): Promise<void> {
  if (store.putMany) return store.putMany(items);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const it = items[next++]!;
      await store.put(it.key, it.data);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

export class ObjectNotFoundError extends Error {
  readonly key: string;

  constructor(key: string, where?: string) {
    super(`object not found: ${key}${where ? ` (${where})` : ''}`);
    this.name = 'ObjectNotFoundError';
    this.key = key;
  }
}

export class InvalidObjectKeyError extends Error {
  readonly key: string;

  constructor(key: string, problem: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${problem}; keys are non-empty relative paths of '/'-separated segments, without '..', '.' segments, empty segments, backslashes or NUL`);
    this.name = 'InvalidObjectKeyError';
    this.key = key;
  }
}

/** Throws InvalidObjectKeyError unless `key` is a safe relative '/'-separated path. */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidObjectKeyError(String(key), 'it is empty');
  if (key.includes('\0')) throw new InvalidObjectKeyError(key, 'it contains a NUL byte');
  if (key.includes('\\')) throw new InvalidObjectKeyError(key, 'it contains a backslash');
  if (key.startsWith('/')) throw new InvalidObjectKeyError(key, 'it is absolute');
  if (key.includes('..')) throw new InvalidObjectKeyError(key, "it contains '..'");
  for (const seg of key.split('/')) {
    if (seg === '.') throw new InvalidObjectKeyError(key, "it contains a '.' segment");
    if (seg === '') throw new InvalidObjectKeyError(key, 'it has an empty segment (a trailing or doubled slash)');
  }
}

/** A list prefix may end in '/' or be empty, but must not escape the store either. */
export function validatePrefix(prefix: string): void {
  if (prefix === '') return;
  if (typeof prefix !== 'string') throw new InvalidObjectKeyError(String(prefix), 'a list prefix must be a string');
  if (prefix.includes('\0') || prefix.includes('\\') || prefix.startsWith('/') || prefix.includes('..')) {
    throw new InvalidObjectKeyError(prefix, 'a list prefix must be a relative path without backslashes, NUL or ..');
  }
}
