import { decodeBlockBytes, storedLineBytes } from '../chunk/block-decode.js';
import type { BlockInfo } from '../chunk/chunk-format.js';
import type { EncodedBlock } from '../chunk/block-encode.js';
import type { EntryBatch } from '../model/batch.js';
import type { Labels } from '../model/labels.js';

/**
 * One ascending run of a stream's unflushed entries as a query receives it: a compressed block, shared
 * with the ingester (blocks are immutable once cut), or a copy of the open head (at most one block's
 * worth). Queries decompress a block only when they reach it and drop it after, so what a query over
 * ingester memory holds is one block per stream it is reading, never the stream's unflushed data.
 */
export type MemoryPiece =
  | { kind: 'block'; block: EncodedBlock }
  | { kind: 'batch'; batch: EntryBatch }
  /** Sizes only, for statistics (labels, series, index stats): the head's entries are not copied. */
  | { kind: 'summary'; minTs: bigint; maxTs: bigint; count: number; lineBytes: number };

export interface StreamSnapshot {
  labels: Labels;
  pieces: MemoryPiece[];
}

export function pieceMinTs(p: MemoryPiece): bigint {
  return p.kind === 'block' ? p.block.minTs : p.kind === 'batch' ? p.batch.ts[0]! : p.minTs;
}

export function pieceMaxTs(p: MemoryPiece): bigint {
  return p.kind === 'block' ? p.block.maxTs : p.kind === 'batch' ? p.batch.ts[p.batch.count - 1]! : p.maxTs;
}

export function pieceCount(p: MemoryPiece): number {
  return p.kind === 'block' ? p.block.count : p.kind === 'batch' ? p.batch.count : p.count;
}

/** Bytes of the piece's lines, without decompressing a block. */
export function pieceLineBytes(p: MemoryPiece): number {
  if (p.kind === 'batch') return p.batch.lineOffsets[p.batch.count]! - p.batch.lineOffsets[0]!;
  if (p.kind === 'summary') return p.lineBytes;
  return storedLineBytes(p.block.data, {}) ?? p.block.rawSize;
}

/** The piece's entries: a block is decompressed here, on each call, and the caller owns the result. */
export function openPiece(p: MemoryPiece, id: string): EntryBatch {
  if (p.kind === 'batch') return p.batch;
  if (p.kind === 'summary') throw new Error(`openPiece: ${id} was selected for statistics only; its entries were not copied`);
  return decodeBlockBytes(p.block.data, memBlockInfo(p.block), id, 0);
}

/** The block-table row of an in-memory block: it is laid out alone, from offset 0. */
export function memBlockInfo(b: EncodedBlock): BlockInfo {
  return { minTs: b.minTs, maxTs: b.maxTs, count: b.count, rawSize: b.rawSize, compressedSize: b.data.length, offset: 0, crc: b.crc, hasMetadata: b.hasMetadata };
}

/**
 * Structured clone (worker messages) turns Buffers into plain Uint8Arrays: gives a piece that crossed
 * a thread its Buffers back, without copying.
 */
export function revivePiece(p: MemoryPiece): MemoryPiece {
  const buf = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
  if (p.kind === 'block') return { kind: 'block', block: { ...p.block, data: buf(p.block.data) } };
  if (p.kind === 'summary') return p;
  return { kind: 'batch', batch: { ...p.batch, lines: buf(p.batch.lines) } };
}
