import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PodsDiscovery } from '../../agent/discovery.js';
import { KubeMetadata } from '../../agent/kube-api.js';
import type { PodLabelRules } from '../../agent/pod-labels.js';
import { silentLogger } from '../../src/model/logger.js';
import { removeDir, tempDir, waitFor } from '../helpers/server.js';

const dir = tempDir('narvi-agent-kube-');
afterAll(() => removeDir(dir));

interface Pod {
  uid: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

/**
 * A small API server on loopback that speaks the Kubernetes pod list/watch JSON: enough of the real protocol
 * (fieldSelector, resourceVersion, newline-delimited watch events, 410 for an expired version) to exercise the
 * client over real HTTP.
 */
class FakeKubeApi {
  pods = new Map<string, Pod>();
  rv = 100;
  requests: string[] = [];
  auth: string[] = [];
  watchers = new Set<http.ServerResponse>();
  expireNextWatch = false;
  private server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private obj(p: Pod) {
    return { metadata: { uid: p.uid, name: p.name, namespace: p.namespace, labels: p.labels, resourceVersion: String(this.rv) } };
  }

  emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', p: Pod): void {
    this.rv++;
    if (type === 'DELETED') this.pods.delete(p.uid);
    else this.pods.set(p.uid, p);
    for (const w of this.watchers) w.write(JSON.stringify({ type, object: this.obj(p) }) + '\n');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url!, 'http://x');
    this.requests.push(req.url!);
    this.auth.push(req.headers.authorization ?? '');
    if (url.pathname !== '/api/v1/pods' || url.searchParams.get('fieldSelector') !== 'spec.nodeName=node-a') {
      res.writeHead(400).end('bad request');
      return;
    }
    if (url.searchParams.get('watch') !== 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: String(this.rv) }, items: [...this.pods.values()].map((p) => this.obj(p)) }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (this.expireNextWatch) {
      this.expireNextWatch = false;
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } }) + '\n');
      return;
    }
    this.watchers.add(res);
    res.on('close', () => this.watchers.delete(res));
  }
}

describe('Kubernetes API client', () => {
  it('lists this node\'s pods, follows the watch, re-lists on 410, and sanitizes label names', async () => {
    const api = new FakeKubeApi();
    api.pods.set('u1', { uid: 'u1', name: 'web-1', namespace: 'shop', labels: { app: 'web', 'app.kubernetes.io/name': 'shop-web', '9lives': 'x' } });
    const url = await api.start();
    const token = join(dir, 'token');
    writeFileSync(token, 'secret-token\n');
    const kube = new KubeMetadata({ apiServer: url, tokenFile: token, caFile: join(dir, 'none'), nodeName: 'node-a', resyncPeriodMs: 60_000 }, silentLogger);
    const changed: string[] = [];
    kube.onChange = (uid) => changed.push(uid);
    kube.start();
    try {
      await waitFor(() => kube.synced, 'initial list');
      expect(kube.labelsFor('u1')).toEqual({ app: 'web', app_kubernetes_io_name: 'shop-web', _9lives: 'x' });
      expect(api.auth[0]).toBe('Bearer secret-token');
      await waitFor(() => api.watchers.size === 1, 'watch to open');
      expect(api.requests[1]).toMatch(/watch=true/);
      expect(api.requests[1]).toMatch(/resourceVersion=100/);

      api.emit('ADDED', { uid: 'u2', name: 'api-1', namespace: 'shop', labels: { app: 'api' } });
      await waitFor(() => kube.labelsFor('u2')?.app === 'api', 'added pod');
      api.emit('MODIFIED', { uid: 'u2', name: 'api-1', namespace: 'shop', labels: { app: 'api', tier: 'backend' } });
      await waitFor(() => kube.labelsFor('u2')?.tier === 'backend', 'relabelled pod');
      expect(changed).toEqual(['u1', 'u2', 'u2']);

      // The watch expires: the client must list again and watch from the new version.
      api.expireNextWatch = true;
      api.pods.set('u3', { uid: 'u3', name: 'db-0', namespace: 'data', labels: { app: 'db' } });
      for (const w of api.watchers) w.end();
      await waitFor(() => kube.labelsFor('u3')?.app === 'db', 'pod found by the re-list');
    } finally {
      kube.stop();
      await api.stop();
    }
  });

  it('labels pod files with namespace, pod, container, node, job and the pod labels', async () => {
    const api = new FakeKubeApi();
    api.pods.set('uid-1', { uid: 'uid-1', name: 'web-1', namespace: 'shop', labels: { app: 'web', namespace: 'must-not-win' } });
    const url = await api.start();
    const root = join(dir, 'pods');
    mkdirSync(join(root, 'shop_web-1_uid-1', 'nginx'), { recursive: true });
    mkdirSync(join(root, 'shop_new-2_uid-2', 'app'), { recursive: true });
    mkdirSync(join(root, 'not-a-pod-dir', 'x'), { recursive: true });
    writeFileSync(join(root, 'shop_web-1_uid-1', 'nginx', '0.log'), '');
    writeFileSync(join(root, 'shop_web-1_uid-1', 'nginx', '0.log.20240101-000000'), '');
    writeFileSync(join(root, 'shop_new-2_uid-2', 'app', '0.log'), '');
    writeFileSync(join(root, 'not-a-pod-dir', 'x', '0.log'), '');
    const kube = new KubeMetadata({ apiServer: url, tokenFile: join(dir, 'none'), caFile: join(dir, 'none'), nodeName: 'node-a', resyncPeriodMs: 60_000 }, silentLogger);
    kube.start();
    try {
      await waitFor(() => kube.synced, 'list');
      const cfg = { enabled: true, podsRoot: root, nodeName: 'node-a', format: 'cri' as const, apiServer: url, tokenFile: '', caFile: '', resyncPeriodMs: 60_000, metadataWaitMs: 60_000, podLabels: { promote: [], all: false } };
      const d = new PodsDiscovery(cfg, kube);
      const found = await d.list();
      // uid-2 is unknown to the API yet: it waits (up to metadata_wait) for its labels.
      expect(found.map((t) => t.path)).toEqual([join(root, 'shop_web-1_uid-1', 'nginx', '0.log')]);
      expect(found[0]!.labels).toEqual({ app: 'web', namespace: 'shop', pod: 'web-1', container: 'nginx', node: 'node-a', job: 'shop/web-1' });
      expect(found[0]!.format).toBe('cri');
      api.emit('ADDED', { uid: 'uid-2', name: 'new-2', namespace: 'shop', labels: { app: 'new' } });
      await waitFor(() => kube.labelsFor('uid-2'), 'uid-2 labels');
      expect((await d.list()).map((t) => t.labels.app).sort()).toEqual(['new', 'web']);
      // Without an API the files are found with the path-derived labels only.
      const bare = new PodsDiscovery(cfg, undefined);
      expect((await bare.list()).length).toBe(2);
      expect(bare.targetFor(join(root, 'shop_web-1_uid-1', 'nginx', '0.log'))!.labels.job).toBe('shop/web-1');
    } finally {
      kube.stop();
      await api.stop();
    }
  });

  /** A pod as a Helm chart and a Deployment label it: workload names, a version, hashes, team tags. */
  const manyLabels: Record<string, string> = {
    'app.kubernetes.io/name': 'checkout',
    'app.kubernetes.io/instance': 'checkout-eu',
    'app.kubernetes.io/component': 'api',
    'app.kubernetes.io/part-of': 'shop',
    'app.kubernetes.io/version': '1.4.2',
    'app.kubernetes.io/managed-by': 'Helm',
    'helm.sh/chart': 'checkout-0.3.1',
    app: 'checkout',
    component: 'backend',
    'pod-template-hash': '7d9f8b6c5d',
    'controller-revision-hash': 'checkout-6f7c9',
    'batch.kubernetes.io/controller-uid': '0f6c3b1e-4a1d-4c52-9c3e-1f2a3b4c5d6e',
    team: 'payments',
    tier: 'web',
    'security.istio.io/tlsMode': 'istio',
    namespace: 'must-not-win',
  };
  const base = { namespace: 'shop', pod: 'checkout-1', container: 'api', node: 'node-a', job: 'shop/checkout-1' };

  async function podLabelsWith(rules: PodLabelRules): Promise<Record<string, string>> {
    const api = new FakeKubeApi();
    api.pods.set('uid-m', { uid: 'uid-m', name: 'checkout-1', namespace: 'shop', labels: manyLabels });
    const url = await api.start();
    const root = join(dir, `pods-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(root, 'shop_checkout-1_uid-m', 'api'), { recursive: true });
    writeFileSync(join(root, 'shop_checkout-1_uid-m', 'api', '0.log'), '');
    const kube = new KubeMetadata({ apiServer: url, tokenFile: join(dir, 'none'), caFile: join(dir, 'none'), nodeName: 'node-a', resyncPeriodMs: 60_000 }, silentLogger);
    kube.start();
    try {
      await waitFor(() => kube.synced, 'list');
      const cfg = { enabled: true, podsRoot: root, nodeName: 'node-a', format: 'cri' as const, apiServer: url, tokenFile: '', caFile: '', resyncPeriodMs: 60_000, metadataWaitMs: 60_000, podLabels: rules };
      const found = await new PodsDiscovery(cfg, kube).list();
      expect(found).toHaveLength(1);
      return found[0]!.labels;
    } finally {
      kube.stop();
      await api.stop();
    }
  }

  it('keeps only the workload-naming pod labels by default, sanitized', async () => {
    expect(await podLabelsWith({ promote: [], all: false })).toEqual({
      ...base,
      app_kubernetes_io_name: 'checkout',
      app_kubernetes_io_instance: 'checkout-eu',
      app_kubernetes_io_component: 'api',
      app_kubernetes_io_part_of: 'shop',
      app: 'checkout',
      component: 'backend',
    });
  });

  it('adds promoted pod labels, named either as the Kubernetes key or its sanitized form', async () => {
    const labels = await podLabelsWith({ promote: ['team', 'app.kubernetes.io/version', 'security_istio_io_tlsMode', 'no-such-label'], all: false });
    expect(labels).toMatchObject({ team: 'payments', app_kubernetes_io_version: '1.4.2', security_istio_io_tlsMode: 'istio', app: 'checkout' });
    expect(labels).not.toHaveProperty('tier');
    expect(labels).not.toHaveProperty('pod_template_hash');
    expect(labels).not.toHaveProperty('no_such_label');
    expect(Object.keys(labels)).toHaveLength(5 + 6 + 3);
  });

  it('keeps every pod label with pod_labels_all, the agent\'s own labels still winning', async () => {
    const labels = await podLabelsWith({ promote: [], all: true });
    expect(Object.keys(labels)).toHaveLength(Object.keys(manyLabels).length - 1 + 5);
    expect(labels).toMatchObject({ ...base, pod_template_hash: '7d9f8b6c5d', helm_sh_chart: 'checkout-0.3.1', batch_kubernetes_io_controller_uid: manyLabels['batch.kubernetes.io/controller-uid'] });
  });
});
