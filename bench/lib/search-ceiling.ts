import { peekBlockLines } from '../../src/chunk/block-decode.js';
import { decodeBlock, readChunkHeader } from '../../src/chunk/chunk.js';

const MB = 1e6;

/**
 * The in-process ceiling every query figure is printed beside: zstd-decompress each block's line bytes
 * (no timestamps, no lengths; the whole block when its format has no separate line segment) and sweep
 * them with Buffer.indexOf, as MB of raw lines per CPU second.
 */
export function searchCeiling(chunks: Buffer[], needle: string): { mbPerCpuSecond: number; rawBytes: number } {
  const n = Buffer.from(needle);
  let raw = 0;
  const c0 = process.cpuUsage();
  for (const buf of chunks) {
    const h = readChunkHeader(buf, 'bench');
    for (let bi = 0; bi < h.blocks.length; bi++) {
      const b = h.blocks[bi]!;
      const lines = peekBlockLines(buf.subarray(b.offset, b.offset + b.compressedSize), b, 'bench', bi) ?? decodeBlock(buf, h, bi, 'bench').lines;
      raw += lines.length;
      let i = lines.indexOf(n);
      while (i >= 0) i = lines.indexOf(n, i + 1);
    }
  }
  const c = process.cpuUsage(c0);
  return { mbPerCpuSecond: raw / MB / ((c.user + c.system) / 1e6), rawBytes: raw };
}
