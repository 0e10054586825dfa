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
import type { TaskMessage, TaskReply, WorkerInit, WorkerTask } from './protocol.js';

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
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

class Slot {
  worker: Worker | null = null;
  readonly pending = new Map<number, Pending>();
}

export class QueryWorkerPool {
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;
  /** Tasks handed to workers so far (observability, tests). */
  tasksRun = 0;
  /** Queries that fell back to the calling thread because a worker failed (crash, unreadable index or store). */
  failures = 0;

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
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (slot.worker === w) slot.worker = null;
    };
    w.on('message', (r: TaskReply) => {
      const p = slot.pending.get(r.id);
      if (!p) return;
      slot.pending.delete(r.id);
      if (slot.pending.size === 0) w.unref();
      if (r.ok) p.resolve(r.result);
      else p.reject(new WorkerTaskError(r.error.message, r.error.queryError));
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => failAll(new Error(`query worker exited (code ${code})`)));
    slot.worker = w;
    return w;
  }

  /** Runs a task on worker `slot` (taken modulo the pool size). */
  run<T>(slot: number, task: WorkerTask, cancel: Int32Array, bounds: BigInt64Array): Promise<T> {
    if (this.closed) return Promise.reject(new Error('query worker pool is closed'));
    const s = this.slots[slot % this.size]!;
    const w = this.start(s);
    const id = this.nextId++;
    this.tasksRun++;
    return new Promise<T>((resolve, reject) => {
      s.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      // Keep the process alive while a task is out.
      w.ref();
      w.postMessage({ id, task, cancel, bounds, slot } satisfies TaskMessage);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }
}
