import { tenantKeySegment } from './tenant-key.js';

/**
 * Object keys under a tenant's segment. Each stream has a directory named by its fingerprint holding its
 * chunks, `<from hex>-<through hex>-<crc32 hex>`, and one `labels` object (the stream's tenant and labels
 * as JSON) written before its first chunk is referenced: the store alone is then enough to rebuild the
 * label index. Anything listing keys must tell the two apart with parseStreamKey.
 */
export const LABELS_OBJECT = 'labels';

// Timestamps before 1970 print with a leading '-'.
const CHUNK_NAME = /^(-?[0-9a-f]+)-(-?[0-9a-f]+)-([0-9a-f]{8})$/;
const hexTs = (h: string): bigint => (h.startsWith('-') ? -BigInt(`0x${h.slice(1)}`) : BigInt(`0x${h}`));
const FINGERPRINT = /^[0-9a-f]{16}$/;

export function chunkKey(tenant: string, fingerprint: string, minTs: bigint, maxTs: bigint, crc: number): string {
  return `${tenantKeySegment(tenant)}/${fingerprint}/${minTs.toString(16)}-${maxTs.toString(16)}-${crc.toString(16).padStart(8, '0')}`;
}

export function streamLabelsKey(tenant: string, fingerprint: string): string {
  return `${tenantKeySegment(tenant)}/${fingerprint}/${LABELS_OBJECT}`;
}

export type StreamKey =
  | { kind: 'chunk'; tenantSegment: string; fingerprint: string; minTs: bigint; maxTs: bigint }
  | { kind: 'labels'; tenantSegment: string; fingerprint: string };

/** What a listed key is: a stream's chunk, its labels object, or (null) something else in the store. */
export function parseStreamKey(key: string): StreamKey | null {
  const parts = key.split('/');
  if (parts.length !== 3) return null;
  const [tenantSegment, fingerprint, leaf] = parts as [string, string, string];
  if (!FINGERPRINT.test(fingerprint)) return null;
  if (leaf === LABELS_OBJECT) return { kind: 'labels', tenantSegment, fingerprint };
  const m = CHUNK_NAME.exec(leaf);
  if (!m) return null;
  return { kind: 'chunk', tenantSegment, fingerprint, minTs: hexTs(m[1]!), maxTs: hexTs(m[2]!) };
}

/** The labels object's bytes. */
export function encodeStreamLabels(tenant: string, labels: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify({ tenant, labels }));
}

export function decodeStreamLabels(buf: Buffer, key: string): { tenant: string; labels: Record<string, string> } {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new Error(`labels object ${key} is not JSON: ${(err as Error).message}`);
  }
  const o = v as { tenant?: unknown; labels?: unknown };
  if (!o || typeof o !== 'object' || typeof o.tenant !== 'string' || !o.labels || typeof o.labels !== 'object' || Array.isArray(o.labels)) {
    throw new Error(`labels object ${key} does not hold {"tenant": string, "labels": {name: value}}`);
  }
  for (const [n, val] of Object.entries(o.labels as Record<string, unknown>)) {
    if (typeof val !== 'string') throw new Error(`labels object ${key}: label ${JSON.stringify(n)} has a non-string value`);
  }
  return { tenant: o.tenant, labels: o.labels as Record<string, string> };
}
