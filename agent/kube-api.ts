import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Labels } from '../src/model/labels.js';
import { Backoff } from './backoff.js';
import { sanitizeLabelName } from './label-names.js';
import type { Logger } from '../src/model/logger.js';

export interface KubeApiOptions {
  /** `https://host:port` (in cluster from KUBERNETES_SERVICE_HOST/PORT) or any http(s) base URL. */
  apiServer: string;
  tokenFile: string;
  caFile: string;
  nodeName: string;
  resyncPeriodMs: number;
}

interface PodMeta {
  metadata?: { uid?: string; name?: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
}
interface PodList {
  metadata?: { resourceVersion?: string };
  items?: PodMeta[];
}
interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: PodMeta & { code?: number; message?: string };
}

/** How long a deleted pod's labels are kept: its log files outlive it a little. */
const KEEP_DELETED_MS = 60 * 60 * 1000;

/**
 * Pod labels from the Kubernetes API, for the pods of this node only (fieldSelector spec.nodeName): a list,
 * then a watch from the list's resourceVersion, re-listed when the watch expires (410 Gone), fails, or every
 * resync period. Label names are sanitized to Loki's charset (`app.kubernetes.io/name` → `app_kubernetes_io_name`).
 */
export class KubeMetadata {
  private pods = new Map<string, { labels: Labels; deletedAt?: number }>();
  private rv = '';
  private stopped = false;
  private req: http.ClientRequest | undefined;
  private lastList = 0;
  private readonly backoff = new Backoff(500, 30_000);
  private wake: (() => void) | undefined;
  /** The watch was ended on purpose (expired resourceVersion): not a failure. */
  private expired = false;
  /** True once a list has succeeded. */
  synced = false;
  /** Called when a pod's labels appear or change. */
  onChange: ((uid: string) => void) | undefined;

  constructor(private readonly o: KubeApiOptions, private readonly log: Logger) {}

  labelsFor(uid: string): Labels | undefined {
    return this.pods.get(uid)?.labels;
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.req?.destroy();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.rv || Date.now() - this.lastList >= this.o.resyncPeriodMs) await this.list();
        await this.watch();
        this.backoff.reset();
      } catch (err) {
        if (this.stopped) return;
        const wait = this.backoff.next();
        this.log.warn('kubernetes API request failed; retrying', { api: this.o.apiServer, err: (err as Error).message, retry_in_ms: wait });
        this.rv = '';
        await new Promise<void>((res) => {
          this.wake = res;
          setTimeout(res, wait).unref();
        });
      }
    }
  }

  private path(extra: string): string {
    return `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.o.nodeName}`)}${extra}`;
  }

  private async list(): Promise<void> {
    const body = await this.request(this.path(''));
    const list = JSON.parse(body) as PodList;
    const now = Date.now();
    const live = new Set<string>();
    for (const item of list.items ?? []) {
      const uid = item.metadata?.uid;
      if (!uid) continue;
      live.add(uid);
      this.put(uid, item);
    }
    for (const [uid, p] of this.pods) {
      if (!live.has(uid) && p.deletedAt === undefined) p.deletedAt = now;
      if (p.deletedAt !== undefined && now - p.deletedAt > KEEP_DELETED_MS) this.pods.delete(uid);
    }
    this.rv = list.metadata?.resourceVersion ?? '';
    this.lastList = now;
    if (!this.synced) this.log.info('kubernetes pod metadata synced', { pods: live.size, node: this.o.nodeName });
    this.synced = true;
  }

  private put(uid: string, pod: PodMeta): void {
    const labels: Labels = {};
    for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) labels[sanitizeLabelName(k)] = String(v);
    const prev = this.pods.get(uid);
    this.pods.set(uid, { labels });
    if (!prev || JSON.stringify(prev.labels) !== JSON.stringify(labels)) this.onChange?.(uid);
  }

  /** One watch request; returns when the server ends it (timeout) so the loop watches again or re-lists. */
  private watch(): Promise<void> {
    const remaining = Math.max(1, Math.ceil((this.o.resyncPeriodMs - (Date.now() - this.lastList)) / 1000));
    const path = this.path(`&watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(this.rv)}&timeoutSeconds=${remaining}`);
    return new Promise<void>((resolve, reject) => {
      const req = this.send(path, (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => reject(new Error(`watch answered ${res.statusCode}: ${text.slice(0, 300)}`)));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) this.onEvent(line, req);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', (err) => (this.stopped || this.expired ? resolve() : reject(err)));
      req.on('close', () => resolve());
    }).finally(() => {
      this.expired = false;
    });
  }

  private onEvent(line: string, req: http.ClientRequest): void {
    let ev: WatchEvent;
    try {
      ev = JSON.parse(line) as WatchEvent;
    } catch {
      this.log.warn('ignoring malformed watch event', { event: line.slice(0, 200) });
      return;
    }
    const rv = ev.object?.metadata?.resourceVersion;
    if (ev.type === 'ERROR') {
      // 410 Gone: our resourceVersion is too old; re-list.
      this.log.debug('watch error; re-listing pods', { code: ev.object?.code, message: ev.object?.message });
      this.rv = '';
      this.expired = true;
      req.destroy();
      return;
    }
    if (rv) this.rv = rv;
    if (ev.type === 'BOOKMARK') return;
    const uid = ev.object?.metadata?.uid;
    if (!uid) return;
    if (ev.type === 'DELETED') {
      const p = this.pods.get(uid);
      if (p) p.deletedAt = Date.now();
    } else {
      this.put(uid, ev.object);
    }
  }

  private request(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = this.send(path, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`GET ${path.split('?')[0]} answered ${res.statusCode}: ${text.slice(0, 300)}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  private send(path: string, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    const url = new URL(path, this.o.apiServer);
    const headers: Record<string, string> = { accept: 'application/json' };
    // Projected service-account tokens rotate: read the file for every request.
    const token = readOptional(this.o.tokenFile);
    if (token) headers.authorization = `Bearer ${token.trim()}`;
    let req: http.ClientRequest;
    if (url.protocol === 'https:') {
      const ca = readOptional(this.o.caFile);
      req = https.request(url, { headers, ca }, onResponse);
    } else {
      req = http.request(url, { headers }, onResponse);
    }
    this.req = req;
    req.end();
    return req;
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
