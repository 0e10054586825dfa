/**
 * Raised for any chunk bytes that cannot be trusted: bad magic, unknown version, truncation, checksum
 * mismatch, lengths that overrun, failed decompression. Queriers catch it to report the object by name
 * instead of crashing or returning wrong lines.
 */
export class ChunkCorruptError extends Error {
  readonly objectId: string;
  readonly blockIndex: number | undefined;

  constructor(objectId: string, problem: string, blockIndex?: number) {
    const where = blockIndex === undefined ? `chunk ${objectId}` : `chunk ${objectId} block ${blockIndex}`;
    super(`corrupt ${where}: ${problem}`);
    this.name = 'ChunkCorruptError';
    this.objectId = objectId;
    this.blockIndex = blockIndex;
  }
}
