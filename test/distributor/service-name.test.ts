/**
 * service_name as Loki 3 adds it at ingest (limits.discover_service_name), through the validation every push
 * format shares: the first listed label present names the service, else unknown_service; a stream that
 * names its own service keeps it.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { withServiceName } from '../../src/distributor/service-name.js';
import { validatePush } from '../../src/distributor/validate.js';
import { canonicalLabels, type Labels } from '../../src/model/labels.js';

const DEFAULT = loadConfig([], {}).limits.discoverServiceName;
const NOW = BigInt(Date.now()) * 1_000_000n;

function labels(o: Record<string, string>): Labels {
  return Object.assign(Object.create(null) as Labels, o);
}

function named(o: Record<string, string>, list: readonly string[] = DEFAULT): string {
  return canonicalLabels(withServiceName(labels(o), list));
}

describe('withServiceName', () => {
  it("takes the first label of Loki's default list the stream has, whatever the label order", () => {
    expect(named({ app: 'web' })).toBe('{app="web", service_name="web"}');
    expect(named({ container: 'c', app: 'a' })).toBe('{app="a", container="c", service_name="a"}');
    expect(named({ job: 'j', container_name: 'cn' })).toBe('{container_name="cn", job="j", service_name="cn"}');
    expect(named({ service: 's', app: 'a' })).toBe('{app="a", service="s", service_name="s"}');
    expect(named({ app_kubernetes_io_name: 'k', name: 'n' })).toBe('{app_kubernetes_io_name="k", name="n", service_name="n"}');
    expect(named({ k8s_job_name: 'kj', workload: 'w' })).toBe('{k8s_job_name="kj", service_name="w", workload="w"}');
  });

  it('gives unknown_service when none is present, and keeps names sorted', () => {
    const out = withServiceName(labels({ env: 'prod', zone: 'z' }), DEFAULT);
    expect(Object.keys(out)).toEqual(['env', 'service_name', 'zone']);
    expect(out.service_name).toBe('unknown_service');
  });

  it('leaves a stream with its own service_name, an empty list, and internal streams alone (the same object)', () => {
    for (const [o, list] of [
      [{ service_name: 'mine', app: 'a' }, DEFAULT],
      [{ app: 'a' }, []],
      [{ __aggregated_metric__: 'x', app: 'a' }, DEFAULT],
      [{ __pattern__: 'x', job: 'j' }, DEFAULT],
    ] as [Record<string, string>, string[]][]) {
      const l = labels(o);
      expect(withServiceName(l, list)).toBe(l);
    }
  });

  it('follows a configured list', () => {
    expect(named({ team: 't', app: 'a' }, ['team'])).toBe('{app="a", service_name="t", team="t"}');
    expect(named({ app: 'a' }, ['team'])).toBe('{app="a", service_name="unknown_service"}');
  });
});

describe('validatePush with discovery', () => {
  it('names the service in the stored stream for text and object labels; an empty-valued label does not count', () => {
    const limits = loadConfig([], {}).limits;
    const v = validatePush(
      [
        { labels: '{app="web", env="prod"}', entries: [{ ts: NOW, line: Buffer.from('a') }] },
        { labels: { container: 'c1', app: '' }, entries: [{ ts: NOW, line: Buffer.from('b') }] },
        { labels: '{env="dev"}', entries: [{ ts: NOW, line: Buffer.from('c') }] },
      ],
      limits,
      NOW,
    );
    expect(v.streams.map((s) => s.canonical)).toEqual([
      '{app="web", env="prod", service_name="web"}',
      '{container="c1", service_name="c1"}',
      '{env="dev", service_name="unknown_service"}',
    ]);
  });

  it('gives the same label text another identity under another list (the identity cache follows the list)', () => {
    const on = loadConfig([], {}).limits;
    const off = loadConfig(['--limits.discover-service-name='], {}).limits;
    const team = loadConfig(['--limits.discover-service-name=env'], {}).limits;
    const push = (l: typeof on) => validatePush([{ labels: '{app="cached", env="e"}', entries: [{ ts: NOW, line: Buffer.from('x') }] }], l, NOW).streams[0]!.canonical;
    expect(push(on)).toBe('{app="cached", env="e", service_name="cached"}');
    expect(push(off)).toBe('{app="cached", env="e"}');
    expect(push(team)).toBe('{app="cached", env="e", service_name="e"}');
    expect(push(on)).toBe('{app="cached", env="e", service_name="cached"}');
  });

  it('does not count service_name against max_label_names_per_series, as Loki does', () => {
    const limits = loadConfig(['--limits.max-label-names-per-series', '2'], {}).limits;
    const v = validatePush(
      [
        { labels: '{a="1", app="2"}', entries: [{ ts: NOW, line: Buffer.from('x') }] },
        { labels: '{a="1", b="2", service_name="s"}', entries: [{ ts: NOW, line: Buffer.from('y') }] },
        { labels: '{a="1", b="2", c="3"}', entries: [{ ts: NOW, line: Buffer.from('z') }] },
      ],
      limits,
      NOW,
    );
    expect(v.streams.map((s) => s.canonical)).toEqual(['{a="1", app="2", service_name="2"}', '{a="1", b="2", service_name="s"}']);
    expect(v.rejections).toHaveLength(1);
    expect(v.rejections[0]!.message).toBe(`stream '{a="1", b="2", c="3", service_name="unknown_service"}' has 3 label names; limit 2`);
  });

  it('adds detected_level to accepted entries only when discover_log_levels is on', () => {
    const line = () => [{ ts: NOW, line: Buffer.from('level=warn msg=x') }];
    const on = validatePush([{ labels: '{app="a"}', entries: line() }], loadConfig([], {}).limits, NOW);
    expect({ ...on.streams[0]!.entries[0]!.metadata }).toEqual({ detected_level: 'warn' });
    const off = validatePush([{ labels: '{app="a"}', entries: line() }], loadConfig(['--limits.discover-log-levels=false'], {}).limits, NOW);
    expect(off.streams[0]!.entries[0]!.metadata).toBeUndefined();
  });
});
