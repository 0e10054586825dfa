import type { Matcher } from '../../query/ast.js';
import { readChunkHeader } from '../chunk/chunk.js';
import type { MemoryPiece, StreamSnapshot } from '../ingester/memory-piece.js';
import { labelsFromJson } from '../model/labels.js';
import type { MemorySource } from './memory-source.js';
import type { Pacer } from './query-lifetime.js';
import { internalHeaders } from '../distributor/remote-ingester.js';

/**
 * Ingester memory in other processes (`--target querier` with `querier.ingesters`). The wire format is
 * the ingester's answer to `POST /internal/ingester/select`: per stream a u32 length + labels JSON, then a
 * u32 length + one chunk holding the stream's in-memory batches as blocks (already ascending each).
 */
export class RemoteMemorySource implements MemorySource {
  constructor(
    private urls: string[],
    private secret = '',
  ) {}

  /** `signal`: the query's; aborting it aborts every request still open, closing its connection. */
  private async ask(path: string, tenant: string, body: unknown, signal?: AbortSignal): Promise<Buffer[]> {
    return Promise.all(
      this.urls.map(async (u) => {
        const res = await fetch(`${u.replace(/\/$/, '')}${path}`, { method: 'POST', headers: internalHeaders(tenant, this.secret, 'application/json'), body: JSON.stringify(body), signal });
        if (!res.ok) throw new Error(`ingester ${u} answered ${res.status}: ${await res.text()}`);
        return Buffer.from(await res.arrayBuffer());
      }),
    );
  }

  async select(tenant: string, matchers: Matcher[], start: bigint, end: bigint, _head?: 'copy' | 'stats', pacer?: Pacer): Promise<StreamSnapshot[]> {
    const out: StreamSnapshot[] = [];
    for (const buf of await this.ask('/internal/ingester/select', tenant, { tenant, matchers, start: String(start), end: String(end) }, pacer?.signal)) {
      out.push(...decodeSnapshots(buf));
    }
    return out;
  }
}

function decodeSnapshots(buf: Buffer): StreamSnapshot[] {
  const out: StreamSnapshot[] = [];
  let p = 0;
  while (p < buf.length) {
    const ll = buf.readUInt32LE(p);
    const labels = labelsFromJson(buf.toString('utf8', p + 4, p + 4 + ll));
    p += 4 + ll;
    const cl = buf.readUInt32LE(p);
    const chunk = buf.subarray(p + 4, p + 4 + cl);
    p += 4 + cl;
    // The blocks stay compressed until a query reaches them, as they are in the ingester.
    const header = readChunkHeader(chunk, `ingester answer for ${JSON.stringify(labels)}`);
    const pieces: MemoryPiece[] = header.blocks.map((b) => ({
      kind: 'block',
      block: { minTs: b.minTs, maxTs: b.maxTs, count: b.count, rawSize: b.rawSize, data: chunk.subarray(b.offset, b.offset + b.compressedSize), crc: b.crc, hasMetadata: b.hasMetadata },
    }));
    out.push({ labels, pieces });
  }
  return out;
}
