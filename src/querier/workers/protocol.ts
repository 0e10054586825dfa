/** Messages between the query thread and its worker threads. */
import type { LogPartial, LogPartialRequest, RangePartial, RangePartialRequest } from '../../../query/parallel.js';
import type { MemoryPiece } from '../../ingester/memory-piece.js';
import type { Labels } from '../../model/labels.js';
import type { DeleteSpec } from '../../store/delete-matcher.js';
import type { S3ObjectStoreConfig } from '../../store/s3-object-store.js';

/** A chunk a worker skipped as damaged (see ChunkDamage). */
export interface DamagedChunk {
  key: string;
  message: string;
  missing: boolean;
}

/** A bounds slot no share has filled yet. */
export const NO_BOUND = -(2n ** 63n);

/** Where a worker finds the chunks: each worker opens its own store client. */
export type StoreSpec = { kind: 'fs'; root: string } | { kind: 's3'; config: S3ObjectStoreConfig };

export interface WorkerInit {
  /** The SQLite label index, opened read-only by each worker. */
  indexPath: string;
  store: StoreSpec;
}

/** One stream of a worker's share: its flushed chunks are looked up by id, its unflushed entries travel along. */
export interface AssignedStream {
  /** Position among all selected streams. */
  index: number;
  labels: Labels;
  streamId: number | null;
  /** Compressed blocks and head copies; structured clone copies them (compressed), see revivePiece. */
  memory: MemoryPiece[];
  /** The stream's retention cutoff when later than the query's start: nothing older is read. */
  from?: bigint;
  /** Delete requests covering some of this stream: its covered entries are left out. */
  deletes?: DeleteSpec[];
}

export type WorkerTask =
  | { kind: 'range'; streams: AssignedStream[]; req: RangePartialRequest }
  | { kind: 'log'; streams: AssignedStream[]; req: LogPartialRequest };

export interface TaskMessage {
  id: number;
  task: WorkerTask;
  /** A shared flag set to 1 when the query is cancelled; the worker checks it every few lines. */
  cancel: Int32Array;
  /** Log queries: one shared slot per share for the worst entry it keeps (see SharedBound); this task's slot. */
  bounds: BigInt64Array;
  slot: number;
}

export type TaskReply =
  | { id: number; ok: true; result: RangePartial | LogPartial; damaged?: DamagedChunk[] }
  | { id: number; ok: false; error: { message: string; queryError: boolean } };
