/**
 * A small fixed pool of query worker threads, started on first use. One query hands each worker a share
 * of its streams; several queries may share the workers at once (each task is independent).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FsObjectStore } from '../../store/fs-object-store.js';
import type { LabelIndex } from '../../store/label-index.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { DamagedChunk, TaskMessage, TaskReply, WorkerInit, WorkerTask } from './protocol.js';

/** Thrown on the query thread for an error a worker met while evaluating. */
export class WorkerTaskError extends Error {
  constructor(
    message: string,
    readonly queryError: boolean,
  ) {
    super(message);
  }
}

/** The compiled worker script; from TypeScript sources (tests), the build's copy under dist/. */
function workerScript(): URL {
  const here = new URL('./query-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  const built = new URL('../../../dist/src/querier/workers/query-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(built))) throw new Error(`query workers need the build: run npm run build (missing ${fileURLToPath(built)})`);
  return built;
}

interface Pending {
  msg: TaskMessage;
  /** Set once the task's query was aborted: the reason it is rejected with. */
  aborted: unknown;
  /** Chunks the worker skipped as damaged, reported before the result. */
  onDamaged?: (d: DamagedChunk[]) => void;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
}

class Slot {
  worker: Worker | null = null;
  /** The tasks out on `worker`. */
  pending = new Map<number, Pending>();
}

/**
 * How long an aborted task may take to notice its cancel flag (checked every few lines) before its worker
 * is terminated: a regex that backtracks on one line never looks at the flag.
 */
export const ABORT_GRACE_MS = 200;

export class QueryWorkerPool {
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;
  /** Tasks handed to workers so far (observability, tests). */
  tasksRun = 0;
  /** Queries that fell back to the calling thread because a worker failed (crash, unreadable index or store). */
  failures = 0;
  /** Workers terminated because an aborted task did not stop within ABORT_GRACE_MS (observability, tests). */
  terminated = 0;

  constructor(
    private readonly init: WorkerInit,
    readonly size: number,
    /** Below this many raw bytes a query is evaluated on the calling thread: starting work elsewhere would cost more. */
    readonly minBytes = 8 * 1024 * 1024,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`query worker pool: size must be a positive integer, got ${size}`);
    this.slots = Array.from({ length: size }, () => new Slot());
  }

  /**
   * The default pool for an index and a store: NARVI_QUERY_WORKERS threads (default: the available
   * cores; 0 or 1 turns splitting off), or null when the store or index cannot be opened by a worker
   * (an S3 store needs its config: construct the pool with it instead).
   */
  static auto(index: LabelIndex, store: ObjectStore, env: NodeJS.ProcessEnv = process.env): QueryWorkerPool | null {
    const raw = env.NARVI_QUERY_WORKERS;
    const size = raw === undefined || raw === '' ? availableParallelism() : Number(raw);
    if (!Number.isInteger(size) || size < 0) throw new Error(`NARVI_QUERY_WORKERS must be a whole number of threads (0 or 1 turns query workers off), got ${JSON.stringify(raw)}`);
    if (size < 2) return null;
    const path = index.db.name;
    if (!(store instanceof FsObjectStore) || !path || path === ':memory:' || index.db.memory) return null;
    const minRaw = env.NARVI_QUERY_WORKER_MIN_BYTES;
    const minBytes = minRaw === undefined || minRaw === '' ? undefined : Number(minRaw);
    if (minBytes !== undefined && !(Number.isFinite(minBytes) && minBytes >= 0)) throw new Error(`NARVI_QUERY_WORKER_MIN_BYTES must be a number of bytes, got ${JSON.stringify(minRaw)}`);
    return new QueryWorkerPool({ indexPath: path, store: { kind: 'fs', root: store.root } }, size, minBytes);
  }

  private start(slot: Slot): Worker {
    if (slot.worker) return slot.worker;
    const w = new Worker(workerScript(), { workerData: this.init });
    // Idle workers must not keep the process alive.
    w.unref();
    const failAll = (err: Error) => {
      // A worker this pool already replaced has handed its tasks on.
      if (slot.worker !== w) return;
      for (const p of slot.pending.values()) p.reject(p.aborted ?? err);
      slot.pending.clear();
      slot.worker = null;
    };
    w.on('message', (r: TaskReply) => {
      if (slot.worker !== w) return;
      const p = slot.pending.get(r.id);
      if (!p) return;
      slot.pending.delete(r.id);
      if (slot.pending.size === 0) w.unref();
      if (r.ok) {
        if (r.damaged && r.damaged.length > 0) p.onDamaged?.(r.damaged);
        p.resolve(r.result);
      }
      else p.reject(new WorkerTaskError(r.error.message, r.error.queryError));
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => failAll(new Error(`query worker exited (code ${code})`)));
    slot.worker = w;
    return w;
  }

  /**
   * Runs a task on worker `slot` (taken modulo the pool size). When `signal` aborts, the task is told to
   * stop (a shared flag it checks every few lines) and rejected with the signal's reason; a worker that
   * still runs it ABORT_GRACE_MS later is terminated and replaced, and the other queries' tasks it held
   * start over on the new one.
   */
  run<T>(slot: number, task: WorkerTask, signal: AbortSignal, bounds: BigInt64Array, onDamaged?: (d: DamagedChunk[]) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('query worker pool is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    const s = this.slots[slot % this.size]!;
    const id = this.nextId++;
    this.tasksRun++;
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const settle = () => {
        signal.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
      };
      const p: Pending = {
        msg: { id, task, cancel, bounds, slot },
        aborted: undefined,
        onDamaged,
        resolve: (r) => {
          settle();
          resolve(r as T);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      };
      const onAbort = () => {
        Atomics.store(cancel, 0, 1);
        p.aborted = signal.reason;
        timer = setTimeout(() => {
          timer = null;
          if (s.pending.get(id) === p) this.recycle(s);
        }, ABORT_GRACE_MS);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.post(s, p);
    });
  }

  private post(s: Slot, p: Pending): void {
    const w = this.start(s);
    s.pending.set(p.msg.id, p);
    // Keep the process alive while a task is out.
    w.ref();
    w.postMessage(p.msg);
  }

  /**
   * Terminates the slot's worker (JavaScript cannot interrupt the regex it is stuck in) and starts over:
   * aborted tasks are rejected, the others are posted again to a fresh worker.
   */
  private recycle(s: Slot): void {
    const old = s.worker;
    if (!old) return;
    s.worker = null;
    const pending = [...s.pending.values()];
    s.pending = new Map();
    this.terminated++;
    void old.terminate();
    for (const p of pending) {
      if (p.aborted !== undefined) p.reject(p.aborted);
      else if (this.closed) p.reject(new Error('query worker pool is closed'));
      else this.post(s, p);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }
}
