/**
 * Object store on any S3-compatible service (AWS S3, MinIO, Ceph RGW, s3rver in tests). Keys live under
 * an optional prefix inside one bucket.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ObjectNotFoundError, validateKey, validatePrefix, type ObjectStore } from './object-store.js';

export interface S3ObjectStoreConfig {
  /** e.g. `http://minio:9000`; omit for AWS. */
  endpoint?: string;
  region?: string;
  bucket: string;
  /** Prepended to every key, e.g. `narvi/`; a missing trailing '/' is added. */
  prefix?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Default true: path-style URLs work with every S3-compatible server; virtual-host style needs DNS per bucket. */
  forcePathStyle?: boolean;
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  listPageSize?: number;
}

export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly pageSize: number;

  constructor(cfg: S3ObjectStoreConfig) {
    if (!cfg.bucket) throw new Error('s3 object store: bucket is required');
    const pageSize = cfg.listPageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new Error(`s3 object store: listPageSize must be an integer from 1 to 1000, got ${cfg.listPageSize}`);
    }
    let prefix = cfg.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    if (prefix !== '') validateKey(prefix.slice(0, -1));
    this.bucket = cfg.bucket;
    this.prefix = prefix;
    this.pageSize = pageSize;
    this.client = new S3Client({
      endpoint: cfg.endpoint,
      region: cfg.region ?? 'us-east-1',
      forcePathStyle: cfg.forcePathStyle ?? true,
      credentials: cfg.accessKeyId !== undefined && cfg.secretAccessKey !== undefined ? { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } : undefined,
      // The SDK's default flexible checksums (CRC trailers on uploads, checksum checks on downloads) are
      // not understood by many S3-compatible servers, which then store the aws-chunked framing as the
      // object body. Only send or check them where S3 requires it.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private keyOf(key: string): string {
    validateKey(key);
    return this.prefix + key;
  }

  async put(key: string, data: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: data, ContentLength: data.length }));
  }

  async get(key: string): Promise<Buffer> {
    let body;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      body = out.Body;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key, `bucket ${this.bucket}`);
      throw err;
    }
    if (!body) throw new Error(`s3 object store: GET ${key} returned no body`);
    const bytes = await body.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** The object's bytes and ETag, or null when there is none (for compare-and-swap writers such as a lease). */
  async getVersioned(key: string): Promise<{ data: Buffer; etag: string } | null> {
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    if (!out.Body) throw new Error(`s3 object store: GET ${key} returned no body`);
    const bytes = await out.Body.transformToByteArray();
    return { data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), etag: out.ETag ?? '' };
  }

  /**
   * A conditional put: only if no object exists (`ifNoneMatch: '*'`) or only over the version `ifMatch`
   * names. False when the condition failed (412, or 409 for a concurrent conditional write). Servers
   * that ignore the conditions (s3rver) or refuse them (501) get a plain write; callers read back to notice.
   */
  async putIf(key: string, data: Buffer, cond: { ifNoneMatch: '*' } | { ifMatch: string }): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: data, ContentLength: data.length, ...('ifMatch' in cond ? { IfMatch: cond.ifMatch } : { IfNoneMatch: cond.ifNoneMatch }) }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409 || (err as { name?: string }).name === 'PreconditionFailed') return false;
      // A server that refuses the conditional headers outright: write plainly, the caller reads back.
      if (status === 501) {
        await this.put(key, data);
        return true;
      }
      throw err;
    }
  }

  /** Size and last-modified time in ms, or null when there is no such object. */
  async stat(key: string): Promise<{ size: number; modifiedMs: number } | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return { size: out.ContentLength ?? 0, modifiedMs: out.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    validatePrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, MaxKeys: this.pageSize, ContinuationToken: token }),
      );
      for (const obj of page.Contents ?? []) {
        if (obj.Key !== undefined) yield obj.Key.slice(this.prefix.length);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  destroy(): void {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  // A missing bucket is a configuration error, never "this object is absent".
  if (e?.name === 'NoSuchBucket' || e?.Code === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
