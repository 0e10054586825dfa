/**
 * Which object keys are chunks. The ingester names a chunk `<tenant>/<fingerprint>/<from hex>-<through
 * hex>-<crc hex>`; other objects share the store (a stream's `labels` object, the compactor's lease) and
 * must never be taken for orphaned chunks, so only keys of exactly that shape are.
 */
import { crc32 } from 'node:zlib';

const CHUNK_NAME = /^-?[0-9a-f]+--?[0-9a-f]+-[0-9a-f]{8}$/;

export function isChunkKey(key: string): boolean {
  const parts = key.split('/');
  return parts.length === 3 && parts[0] !== '' && parts[1] !== '' && CHUNK_NAME.test(parts[2]!);
}

/**
 * The key for a chunk the compactor writes, in the directory of the chunk(s) it replaces (the stream's
 * `<tenant>/<fingerprint>/`), named like the ingester names its own.
 */
export function chunkKeyBeside(oldKey: string, minTs: bigint, maxTs: bigint, bytes: Buffer): string {
  const dir = oldKey.slice(0, oldKey.lastIndexOf('/') + 1);
  return `${dir}${minTs.toString(16)}-${maxTs.toString(16)}-${crc32(bytes).toString(16).padStart(8, '0')}`;
}
