import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentConfigError, loadAgentConfig } from '../../agent/config.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dir = tempDir('narvi-agent-config-');
afterAll(() => removeDir(dir));

function file(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
}

describe('agent config', () => {
  it('applies defaults: 9080, protobuf, 1 MiB / 1 s batches, backoff 500ms → 5m forever, kubernetes when nothing else', () => {
    const c = loadAgentConfig({ settings: [['client.url', 'http://127.0.0.1:3100/loki/api/v1/push']] }, {});
    expect(c.server.port).toBe(9080);
    expect(c.server.enabled).toBe(true);
    expect(c.kubernetes.podLabels).toEqual({ promote: [], all: false });
    expect(c.client).toMatchObject({ encoding: 'protobuf', batchSize: 1024 * 1024, batchWaitMs: 1000, gzip: false });
    expect(c.client.backoff).toEqual({ minMs: 500, maxMs: 300_000, maxRetries: 0 });
    expect(c.kubernetes).toMatchObject({ enabled: true, podsRoot: '/var/log/pods', format: 'cri' });
    expect(c.positions.path).toBe('./positions.yaml');
    expect(c.limits.maxLineSize).toBe(256_000);
  });

  it('reads the YAML file and lets flags win', () => {
    const p = file(`
server: {http_listen_port: 9999}
client:
  url: http://a/loki/api/v1/push
  tenant_id: team-a
  batch_wait: 250ms
  encoding: json
  basic_auth: {username: u, password: p}
  backoff: {min_period: 100ms, max_period: 2s, max_retries: 3}
positions: {path: /tmp/p.yaml, sync_period: 1s}
static_targets:
  - paths: [/var/log/*.log]
    labels: {job: varlogs}
    multiline: {firstline: '^\\d', max_wait_time: 2s}
pipeline:
  - drop: {expression: healthz}
  - json: {labels: {level: level, svc: meta.service}}
  - static_labels: {env: prod}
`);
    const c = loadAgentConfig({ configFile: p, settings: [['server.http-listen-port', '0'], ['client.batch_wait', '2s']] }, {});
    expect(c.server.port).toBe(0);
    expect(c.client).toMatchObject({ url: 'http://a/loki/api/v1/push', tenantId: 'team-a', batchWaitMs: 2000, encoding: 'json', basicAuth: { username: 'u', password: 'p' } });
    expect(c.client.backoff).toEqual({ minMs: 100, maxMs: 2000, maxRetries: 3 });
    expect(c.staticTargets).toHaveLength(1);
    expect(c.staticTargets[0]!.multiline).toMatchObject({ maxWaitMs: 2000, maxLines: 128 });
    expect(c.kubernetes.enabled).toBe(false);
    expect(c.pipeline.map((s) => s.type)).toEqual(['drop', 'json', 'static_labels']);
  });

  it('builds a one-off target from --path and --label', () => {
    const c = loadAgentConfig({ paths: ['/tmp/a/*.log', '/tmp/b.log'], labels: ['job=x', 'team=y'], settings: [['client.url', 'http://h/p']] }, {});
    expect(c.staticTargets).toEqual([{ paths: ['/tmp/a/*.log', '/tmp/b.log'], labels: { job: 'x', team: 'y' }, format: 'plain' }]);
    expect(c.kubernetes.enabled).toBe(false);
  });

  it('takes the API server from the in-cluster environment and the node name from NODE_NAME', () => {
    const c = loadAgentConfig({ settings: [['client.url', 'http://h/p']] }, { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443', NODE_NAME: 'node-7' });
    expect(c.kubernetes.apiServer).toBe('https://10.0.0.1:6443');
    expect(c.kubernetes.nodeName).toBe('node-7');
  });

  describe('the /metrics and /ready listener', () => {
    const url: [string, string] = ['client.url', 'http://h/p'];
    it('is on for file targets and off for --stdin unless a port or server.disable: false is given', () => {
      expect(loadAgentConfig({ paths: ['/x'], settings: [url] }, {}).server.enabled).toBe(true);
      expect(loadAgentConfig({ stdin: true, settings: [url] }, {}).server.enabled).toBe(false);
      expect(loadAgentConfig({ stdin: true, settings: [url, ['server.http-listen-port', '0']] }, {}).server.enabled).toBe(true);
      expect(loadAgentConfig({ stdin: true, configFile: file('server: {http_listen_port: 9090}') , settings: [url] }, {}).server.enabled).toBe(true);
      expect(loadAgentConfig({ stdin: true, settings: [url, ['server.disable', 'false']] }, {}).server.enabled).toBe(true);
    });
    it('is turned off by server.disable in the file or a bare --server.disable, whatever the port', () => {
      expect(loadAgentConfig({ paths: ['/x'], settings: [url, ['server.disable', true]] }, {}).server.enabled).toBe(false);
      expect(loadAgentConfig({ paths: ['/x'], configFile: file('server: {disable: true, http_listen_port: 9090}'), settings: [url] }, {}).server.enabled).toBe(false);
      expect(loadAgentConfig({ stdin: true, settings: [url, ['server.disable', 'true'], ['server.http_listen_port', '0']] }, {}).server.enabled).toBe(false);
      // The flag wins over the file.
      expect(loadAgentConfig({ paths: ['/x'], configFile: file('server: {disable: true}'), settings: [url, ['server.disable', 'false']] }, {}).server.enabled).toBe(true);
    });
  });

  describe('kubernetes.pod_labels', () => {
    const url: [string, string] = ['client.url', 'http://h/p'];
    it('takes a list in the file; flags (comma-separated, repeatable) replace it', () => {
      const p = file('kubernetes: {pod_labels: [team, app.kubernetes.io/version], pod_labels_all: false}');
      expect(loadAgentConfig({ configFile: p, settings: [url] }, {}).kubernetes.podLabels).toEqual({ promote: ['team', 'app.kubernetes.io/version'], all: false });
      const c = loadAgentConfig({ configFile: p, settings: [url, ['kubernetes.pod-labels', 'tier, owner'], ['kubernetes.pod_labels', 'cost-center']] }, {});
      expect(c.kubernetes.podLabels.promote).toEqual(['tier', 'owner', 'cost-center']);
      expect(loadAgentConfig({ settings: [url, ['kubernetes.pod-labels', '[a, b]']] }, {}).kubernetes.podLabels.promote).toEqual(['a', 'b']);
      expect(loadAgentConfig({ settings: [url, ['kubernetes.pod-labels-all', true]] }, {}).kubernetes.podLabels.all).toBe(true);
    });
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['bad server.disable', () => loadAgentConfig({ configFile: file('client: {url: http://h}\nserver: {disable: maybe}') }, {}), /server\.disable must be true, false or auto, got "maybe"/],
    ['bad --server.disable', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['server.disable', 'yes']] }, {}), /flag --server\.disable must be true or false, got "yes"/],
    ['port -1', () => loadAgentConfig({ configFile: file('client: {url: http://h}\nserver: {http_listen_port: -1}') }, {}), /server\.http_listen_port must be an integer from 0 to 65535, got -1; to run without \/metrics and \/ready set server\.disable: true/],
    ['pod_labels not a list', () => loadAgentConfig({ configFile: file('client: {url: http://h}\nkubernetes: {pod_labels: {team: x}}') }, {}), /kubernetes\.pod_labels must be a list of pod label keys/],
    ['pod_labels bad key', () => loadAgentConfig({ configFile: file('client: {url: http://h}\nkubernetes: {pod_labels: [team, "-bad"]}') }, {}), /kubernetes\.pod_labels\[1\]: "-bad" is not a Kubernetes label key/],
    ['pod_labels non-string', () => loadAgentConfig({ configFile: file('client: {url: http://h}\nkubernetes: {pod_labels: [42]}') }, {}), /kubernetes\.pod_labels\[0\] must be a pod label key .*got 42/],
    ['pod_labels star', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['kubernetes.pod-labels', '*']] }, {}), /kubernetes\.pod_labels\[0\]: "\*" is not a label key; to keep every pod label set kubernetes\.pod_labels_all: true/],
    ['pod_labels agent label', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['kubernetes.pod-labels', 'team,job']] }, {}), /kubernetes\.pod_labels\[0\]: "job" is set by the agent itself/],
    ['pod_labels_all not bool', () => loadAgentConfig({ configFile: file('client: {url: http://h}\nkubernetes: {pod_labels_all: yes please}') }, {}), /kubernetes\.pod_labels_all must be true or false/],
    ['missing url', () => loadAgentConfig({}, {}), /client\.url is required/],
    ['bad url', () => loadAgentConfig({ settings: [['client.url', 'ftp://x']] }, {}), /client\.url .*not a valid http\(s\) URL/],
    ['unknown flag', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['client.batchsize', '1']] }, {}), /unknown setting "client.batchsize"/],
    ['bad encoding', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['client.encoding', 'xml']] }, {}), /client\.encoding must be one of protobuf, json, got "xml"/],
    ['bad duration', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['client.batch_wait', 'soon']] }, {}), /client\.batch_wait: invalid duration "soon"/],
    ['bad port', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['server.http_listen_port', '70000']] }, {}), /server\.http_listen_port must be an integer from 0 to 65535/],
    ['bad label flag', () => loadAgentConfig({ paths: ['/x'], labels: ['9bad=x'], settings: [['client.url', 'http://h']] }, {}), /label name "9bad" must match/],
    ['label flag without =', () => loadAgentConfig({ paths: ['/x'], labels: ['job'], settings: [['client.url', 'http://h']] }, {}), /expected name=value/],
    ['stdin with files', () => loadAgentConfig({ stdin: true, paths: ['/x'], settings: [['client.url', 'http://h']] }, {}), /--stdin cannot be combined/],
    ['buffer below batch', () => loadAgentConfig({ settings: [['client.url', 'http://h'], ['client.max_buffered_bytes', '1KB']] }, {}), /client\.max_buffered_bytes \(1000\) must be at least client\.batch_size/],
  ];
  for (const [name, fn, re] of bad) {
    it(`rejects ${name} with a message naming the key`, () => {
      expect(fn).toThrow(AgentConfigError);
      expect(fn).toThrow(re);
    });
  }

  it('rejects unknown keys and malformed stages in the file', () => {
    expect(() => loadAgentConfig({ configFile: file('client: {url: http://h, batchsize: 1}') }, {})).toThrow(/unknown setting "client.batchsize"/);
    expect(() => loadAgentConfig({ configFile: file('client: {url: http://h}\npipeline: [{regex: {}}]') }, {})).toThrow(/pipeline\[0\]: unknown stage "regex"/);
    expect(() => loadAgentConfig({ configFile: file('client: {url: http://h}\npipeline: [{drop: {expression: "("}}]') }, {})).toThrow(/pipeline\[0\]\.drop\.expression: invalid regular expression/);
    expect(() => loadAgentConfig({ configFile: file('client: {url: http://h}\nstatic_targets: [{labels: {a: b}}]') }, {})).toThrow(/static_targets\[0\]\.paths must be a non-empty list/);
    expect(() => loadAgentConfig({ configFile: file('client: {url: http://h}\nstatic_targets: [{paths: [/x], format: xml}]') }, {})).toThrow(/static_targets\[0\]\.format must be one of cri, docker, plain/);
    expect(() => loadAgentConfig({ configFile: file(': : :\n  - [') }, {})).toThrow(/not valid YAML/);
    expect(() => loadAgentConfig({ configFile: join(dir, 'missing.yaml') }, {})).toThrow(/cannot read config file/);
  });
});
