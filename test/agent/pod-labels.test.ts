import { describe, expect, it } from 'vitest';
import { isPodLabelKey, PodLabelFilter } from '../../agent/pod-labels.js';

describe('pod label filter', () => {
  // As KubeMetadata hands them over: names already sanitized.
  const pod = {
    app_kubernetes_io_name: 'web',
    app_kubernetes_io_instance: 'web-eu',
    app_kubernetes_io_version: '2.0.1',
    app: 'web',
    component: 'frontend',
    pod_template_hash: '5c7d9f',
    team: 'storefront',
  };

  it('keeps the workload-naming labels and drops the rest by default', () => {
    expect(new PodLabelFilter({ promote: [], all: false }).apply(pod)).toEqual({
      app_kubernetes_io_name: 'web',
      app_kubernetes_io_instance: 'web-eu',
      app: 'web',
      component: 'frontend',
    });
  });

  it('adds promoted keys in either spelling and keeps everything with all', () => {
    const promoted = new PodLabelFilter({ promote: ['app.kubernetes.io/version', 'team'], all: false }).apply(pod);
    expect(promoted).toMatchObject({ app_kubernetes_io_version: '2.0.1', team: 'storefront', app: 'web' });
    expect(promoted).not.toHaveProperty('pod_template_hash');
    expect(new PodLabelFilter({ promote: ['app_kubernetes_io_version'], all: false }).apply(pod)).toHaveProperty('app_kubernetes_io_version', '2.0.1');
    expect(new PodLabelFilter({ promote: [], all: true }).apply(pod)).toEqual(pod);
  });

  it('accepts Kubernetes label keys and refuses what cannot be one', () => {
    for (const k of ['team', 'app.kubernetes.io/name', 'example.com/Cost_Center', 'a', 'x'.repeat(63), 'app_kubernetes_io_version']) expect(isPodLabelKey(k), k).toBe(true);
    for (const k of ['', '-team', 'team-', 'x'.repeat(64), 'Example.com/x', '/x', 'a/b/c', 'has space', '*']) expect(isPodLabelKey(k), k).toBe(false);
  });
});
