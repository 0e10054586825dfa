import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IPriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IService } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/config.js';
import { loadConfig } from '../../src/config/load.js';
import { objectId, type K8sObject } from './k8s-object.js';
import { isNamespaced, validateObject } from './k8s-schema.js';
import { kubectlVersion, kustomize } from './kubectl.js';
import { configFileArg, literalEnv, mountedConfigText, withMountedConfig } from './pod-config.js';
import { parseQuantity } from './quantity.js';
import { container, mountCovering, parseYamlFile, podSpec, resolvePort, selects, Stack } from './stack.js';

const DEPLOY = resolve(import.meta.dirname, '../../deploy');
const NAMESPACE = 'narvi';

/** Every kustomization a user may apply (the base too: overlays are only as valid as it is). */
const FULL_STACKS = ['base', 'overlays/dev', 'overlays/production'] as const;
const ALL = [...FULL_STACKS, 'overlays/agent-only'] as const;

const rendered = new Map<string, Stack>();
/** Renders once per kustomization; a missing kubectl makes every test that needs it fail with the install hint. */
function render(name: string): Stack {
  let s = rendered.get(name);
  if (!s) {
    s = new Stack(name, kustomize(join(DEPLOY, name)));
    rendered.set(name, s);
  }
  return s;
}

function serverOf(s: Stack): { sts: IStatefulSet; c: IContainer } {
  const sts = s.only<IStatefulSet>('StatefulSet');
  return { sts, c: container(podSpec(sts), 'narvi') };
}

function agentOf(s: Stack): { ds: IDaemonSet; c: IContainer } {
  const ds = s.only<IDaemonSet>('DaemonSet');
  return { ds, c: container(podSpec(ds), 'agent') };
}

/** The keys of the agent's YAML config that the manifests are built around. */
interface AgentYaml {
  server?: { http_listen_port?: number };
  client?: { url?: string };
  positions?: { path?: string };
  kubernetes?: { enabled?: boolean; pods_root?: string };
}

/** The agent's YAML config exactly as the pod will see it at --config.file. */
function agentConfig(s: Stack): AgentYaml {
  const { ds, c } = agentOf(s);
  const { path, text } = mountedConfigText(s, podSpec(ds), c);
  return parseYamlFile(text, `${s.name}: agent config ${path}`) as AgentYaml;
}

/** The server's config computed by narvi's own loader from the mounted file, container args and env. */
function serverConfig(s: Stack) {
  const { sts, c } = serverOf(s);
  return withMountedConfig(s, podSpec(sts), c, (args) => {
    expect(args[0], `${s.name}: first server arg is the subcommand`).toBe('server');
    return loadConfig(args.slice(1), literalEnv(c));
  });
}

function resources(c: IContainer): { reqCpu: number; reqMem: number; limCpu: number; limMem: number } {
  const r = c.resources;
  const q = (v: unknown, what: string) => {
    if (v === undefined) throw new Error(`container ${c.name} has no ${what}`);
    return parseQuantity(v as string | number);
  };
  return {
    reqCpu: q(r?.requests?.cpu, 'resources.requests.cpu'),
    reqMem: q(r?.requests?.memory, 'resources.requests.memory'),
    limCpu: q(r?.limits?.cpu, 'resources.limits.cpu'),
    limMem: q(r?.limits?.memory, 'resources.limits.memory'),
  };
}

function pvcSize(sts: IStatefulSet): number {
  const t = sts.spec?.volumeClaimTemplates?.[0];
  return parseQuantity(t?.spec?.resources?.requests?.storage as string);
}

function imageTag(image: string | undefined): string {
  if (!image) throw new Error('container without image');
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

describe('kubectl', () => {
  it('is installed, because every manifest test renders with its built-in Kustomize', () => {
    expect(kubectlVersion()).toMatch(/Kustomize Version/);
  });
});

describe.each(ALL)('kubectl kustomize deploy/%s', (name) => {
  it('renders, and every object passes the Kubernetes schema validation', () => {
    const s = render(name);
    expect(s.objects.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const obj of s.objects) {
      try {
        validateObject(obj);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    expect(problems).toEqual([]);
  });

  it('puts every namespaced object in namespace narvi, and creates that namespace', () => {
    const s = render(name);
    for (const obj of s.objects) {
      if (isNamespaced(obj)) expect(obj.metadata?.namespace, objectId(obj)).toBe(NAMESPACE);
      else expect(obj.metadata?.namespace, `${objectId(obj)} is cluster-scoped`).toBeUndefined();
    }
    const ns = s.get<INamespace>('Namespace', NAMESPACE);
    // hostPath volumes are refused by the baseline level; the agent needs them.
    expect(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('has no two objects of the same kind and name, and labels all of them and their pods part-of narvi', () => {
    const s = render(name);
    const ids = s.objects.map(objectId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const obj of s.objects) expect(obj.metadata?.labels?.['app.kubernetes.io/part-of'], objectId(obj)).toBe('narvi');
    for (const w of [...s.all<IStatefulSet>('StatefulSet'), ...s.all<IDaemonSet>('DaemonSet')]) {
      expect(w.spec?.template.metadata?.labels?.['app.kubernetes.io/part-of'], `${w.kind} pod template`).toBe('narvi');
    }
  });

  it('only references objects that exist: ConfigMaps, ServiceAccounts, PriorityClasses', () => {
    const s = render(name);
    for (const w of [...s.all<IStatefulSet>('StatefulSet'), ...s.all<IDaemonSet>('DaemonSet')]) {
      const spec = podSpec(w);
      for (const v of spec.volumes ?? []) if (v.configMap) expect(s.find('ConfigMap', v.configMap.name!), `${w.kind} volume ${v.name}`).toBeDefined();
      if (spec.serviceAccountName) expect(s.find('ServiceAccount', spec.serviceAccountName), `${w.kind} serviceAccountName`).toBeDefined();
      if (spec.priorityClassName && !spec.priorityClassName.startsWith('system-')) {
        expect(s.find('PriorityClass', spec.priorityClassName), `${w.kind} priorityClassName`).toBeDefined();
      }
      // The API server rejects a workload whose selector does not match its own pod template.
      expect(selects(w.spec?.selector.matchLabels, w.spec?.template.metadata?.labels), `${w.kind} selector`).toBe(true);
      for (const c of spec.containers) {
        for (const m of c.volumeMounts ?? []) {
          const known = (spec.volumes ?? []).some((v) => v.name === m.name) || (w.kind === 'StatefulSet' && (w as IStatefulSet).spec?.volumeClaimTemplates?.some((t) => t.metadata?.name === m.name));
          expect(known, `${w.kind} mount ${m.name} has a volume`).toBe(true);
        }
      }
    }
  });
});

describe.each(ALL)('the agent DaemonSet in deploy/%s', (name) => {
  it('runs on every node: tolerates every taint, Linux nodes only', () => {
    const { ds } = agentOf(render(name));
    const spec = podSpec(ds);
    // operator Exists with no key and no effect matches every taint, NoExecute included.
    expect(spec.tolerations).toContainEqual({ operator: 'Exists' });
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('mounts the node’s /var/log/pods read-only, at the pods_root of its config', () => {
    const s = render(name);
    const { ds, c } = agentOf(s);
    const spec = podSpec(ds);
    const vol = spec.volumes?.find((v) => v.hostPath?.path === '/var/log/pods');
    expect(vol, 'hostPath volume for /var/log/pods').toBeDefined();
    const mounts = (c.volumeMounts ?? []).filter((m) => m.name === vol!.name);
    expect(mounts.length).toBeGreaterThan(0);
    for (const m of mounts) expect(m.readOnly, `mount ${m.mountPath}`).toBe(true);
    const cfg = agentConfig(s);
    expect(cfg.kubernetes?.enabled).toBe(true);
    const podsRoot = mountCovering(c, cfg.kubernetes?.pods_root ?? '');
    expect(podsRoot?.name, `kubernetes.pods_root ${cfg.kubernetes?.pods_root} is on the hostPath`).toBe(vol!.name);
    expect(podsRoot?.readOnly).toBe(true);
  });

  it('keeps positions on a writable hostPath, so they survive restarts', () => {
    const s = render(name);
    const { ds, c } = agentOf(s);
    const positions = agentConfig(s).positions?.path ?? '';
    expect(positions, 'positions.path').toMatch(/^\//);
    const m = mountCovering(c, dirname(positions));
    expect(m, `mount covering ${positions}`).toBeDefined();
    expect(m!.readOnly ?? false).toBe(false);
    const vol = podSpec(ds).volumes?.find((v) => v.name === m!.name);
    expect(vol?.hostPath?.path).toBe('/var/lib/narvi-agent');
    expect(vol?.hostPath?.type).toBe('DirectoryOrCreate');
  });

  it('gets NODE_NAME from the downward API (spec.nodeName)', () => {
    const { c } = agentOf(render(name));
    const env = c.env?.find((e) => e.name === 'NODE_NAME');
    expect(env?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(env?.value).toBeUndefined();
  });

  it('has CPU and memory requests and limits, requests not above limits', () => {
    const r = resources(agentOf(render(name)).c);
    expect(r.reqCpu).toBeGreaterThan(0);
    expect(r.reqMem).toBeGreaterThan(0);
    expect(r.reqCpu).toBeLessThanOrEqual(r.limCpu);
    expect(r.reqMem).toBeLessThanOrEqual(r.limMem);
    // Node alone needs ~50 MiB resident; a lower limit would OOM-kill the agent at start.
    expect(r.limMem).toBeGreaterThanOrEqual(128 * 2 ** 20);
  });

  it('is ready on GET /ready at its metrics port 9080, which is server.http_listen_port in its config', () => {
    const s = render(name);
    const { c } = agentOf(s);
    const get = c.readinessProbe?.httpGet;
    expect(get?.path).toBe('/ready');
    expect(resolvePort(c, get?.port)).toBe(9080);
    expect(agentConfig(s).server?.http_listen_port).toBe(9080);
  });

  it('rolls out with RollingUpdate and a maxUnavailable', () => {
    const { ds } = agentOf(render(name));
    expect(ds.spec?.updateStrategy?.type).toBe('RollingUpdate');
    expect(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable).toBeDefined();
  });

  it('runs as root with a read-only root filesystem and no capabilities', () => {
    const { c } = agentOf(render(name));
    const sc = c.securityContext;
    expect(sc?.runAsUser).toBe(0);
    expect(sc?.readOnlyRootFilesystem).toBe(true);
    expect(sc?.allowPrivilegeEscalation).toBe(false);
    expect(sc?.privileged ?? false).toBe(false);
    expect(sc?.capabilities?.drop).toEqual(['ALL']);
    expect(sc?.capabilities?.add ?? []).toEqual([]);
    // Every writable mount is one the agent must write: positions and /tmp.
    const writable = (c.volumeMounts ?? []).filter((m) => !m.readOnly).map((m) => m.mountPath).sort();
    expect(writable).toEqual(['/tmp', '/var/lib/narvi-agent']);
  });

  it('starts `narvi agent` with a mounted config file the agent’s own loader accepts', () => {
    const s = render(name);
    const { ds, c } = agentOf(s);
    expect(c.command).toBeUndefined();
    expect(c.args?.[0]).toBe('agent');
    // What the pod's environment provides: NODE_NAME from the downward API, the API address from the kubelet.
    const env = { NODE_NAME: 'node-1', KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const cfg = withMountedConfig(s, podSpec(ds), c, (args) => loadAgentConfig({ configFile: configFileArg({ name: c.name, args }) }, env));
    expect(cfg.server.port).toBe(9080);
    expect(cfg.kubernetes.enabled).toBe(true);
    expect(cfg.kubernetes.podsRoot).toBe('/var/log/pods');
    expect(cfg.positions.path).toBe('/var/lib/narvi-agent/positions.yaml');
    expect(cfg.client.url).toMatch(/\/loki\/api\/v1\/push$/);
  });
});

describe.each(ALL)('the agent RBAC in deploy/%s', (name) => {
  it('grants get/list/watch on pods and nothing else', () => {
    const s = render(name);
    const role = s.get<IClusterRole>('ClusterRole', 'narvi-agent');
    expect(role.rules).toHaveLength(1);
    const rule = role.rules![0]!;
    expect(rule.apiGroups).toEqual(['']);
    expect(rule.resources).toEqual(['pods']);
    expect([...(rule.verbs ?? [])].sort()).toEqual(['get', 'list', 'watch']);
    expect(rule.resourceNames).toBeUndefined();
  });

  it('binds that role to the service account the DaemonSet runs as, in its namespace', () => {
    const s = render(name);
    const { ds } = agentOf(s);
    const sa = podSpec(ds).serviceAccountName;
    expect(sa).toBeTruthy();
    expect(s.find('ServiceAccount', sa!)).toBeDefined();
    const bindings = s.all<IClusterRoleBinding>('ClusterRoleBinding').filter((b) => b.roleRef.kind === 'ClusterRole' && b.roleRef.name === 'narvi-agent');
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.roleRef.apiGroup).toBe('rbac.authorization.k8s.io');
    expect(bindings[0]!.subjects).toContainEqual({ kind: 'ServiceAccount', name: sa, namespace: ds.metadata?.namespace });
  });
});

describe.each(FULL_STACKS)('the server in deploy/%s', (name) => {
  it('is one StatefulSet replica governed by a headless Service that selects it', () => {
    const s = render(name);
    const { sts } = serverOf(s);
    expect(sts.spec?.replicas).toBe(1);
    const headless = s.get<IService>('Service', sts.spec!.serviceName!);
    expect(headless.spec?.clusterIP).toBe('None');
    expect(selects(headless.spec?.selector, sts.spec?.template.metadata?.labels)).toBe(true);
  });

  it('mounts its volumeClaimTemplate at the storage.path narvi loads from its config', () => {
    const s = render(name);
    const { sts, c } = serverOf(s);
    const templates = sts.spec?.volumeClaimTemplates ?? [];
    expect(templates).toHaveLength(1);
    expect(templates[0]!.spec?.accessModes).toEqual(['ReadWriteOnce']);
    const cfg = serverConfig(s);
    const m = mountCovering(c, cfg.storage.path);
    expect(m?.name, `mount covering storage.path ${cfg.storage.path}`).toBe(templates[0]!.metadata?.name);
    expect(m?.readOnly ?? false).toBe(false);
  });

  it('probes GET /ready on the port narvi listens on (3100) for startup, readiness and liveness', () => {
    const s = render(name);
    const { c } = serverOf(s);
    const port = serverConfig(s).server.port;
    expect(port).toBe(3100);
    expect(resolvePort(c, c.ports?.[0]?.name)).toBe(port);
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
      expect(probe?.httpGet?.path).toBe('/ready');
      expect(resolvePort(c, probe?.httpGet?.port)).toBe(port);
    }
  });

  it('gives SIGTERM time to flush: the grace period exceeds the server’s own shutdown timeout', () => {
    const s = render(name);
    const { sts } = serverOf(s);
    const grace = podSpec(sts).terminationGracePeriodSeconds ?? 30;
    expect(grace).toBeGreaterThanOrEqual(60);
    expect(serverConfig(s).server.gracefulShutdownTimeoutMs).toBeLessThan(grace * 1000);
  });

  it('runs unprivileged: non-root uid, fsGroup for the volume, read-only root filesystem, no capabilities', () => {
    const { sts, c } = serverOf(render(name));
    const pod = podSpec(sts).securityContext;
    expect(pod?.runAsNonRoot).toBe(true);
    expect(pod?.runAsUser).toBeGreaterThan(0);
    expect(pod?.fsGroup).toBeGreaterThan(0);
    expect(pod?.seccompProfile?.type).toBe('RuntimeDefault');
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext?.capabilities?.drop).toEqual(['ALL']);
    // With a read-only root, SQLite's temp files need a writable TMPDIR.
    expect(literalEnv(c).TMPDIR).toBe('/tmp');
    expect(mountCovering(c, '/tmp/x')?.readOnly ?? false).toBe(false);
  });

  it('has CPU and memory requests and limits, requests not above limits', () => {
    const r = resources(serverOf(render(name)).c);
    expect(r.reqCpu).toBeGreaterThan(0);
    expect(r.reqMem).toBeGreaterThan(0);
    expect(r.reqCpu).toBeLessThanOrEqual(r.limCpu);
    expect(r.reqMem).toBeLessThanOrEqual(r.limMem);
  });

  it('is reached through a ClusterIP Service on 3100 that selects the server pods and not the agent', () => {
    const s = render(name);
    const { sts, c } = serverOf(s);
    const svc = s.get<IService>('Service', 'narvi');
    expect(svc.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(selects(svc.spec?.selector, sts.spec?.template.metadata?.labels)).toBe(true);
    expect(selects(svc.spec?.selector, agentOf(s).ds.spec?.template.metadata?.labels)).toBe(false);
    const port = svc.spec?.ports?.find((p) => p.port === 3100);
    expect(port, 'Service port 3100').toBeDefined();
    expect(resolvePort(c, port!.targetPort)).toBe(serverConfig(s).server.port);
  });

  it('is where the agent in the same stack pushes: the narvi Service, port 3100, the push path', () => {
    const s = render(name);
    const url = new URL(agentConfig(s).client?.url ?? '');
    const svc = s.get<IService>('Service', 'narvi');
    // <service>.<namespace>.svc[.<cluster domain>]
    const [svcName, ns, svcLabel] = url.hostname.split('.');
    expect([svcName, ns, svcLabel]).toEqual([svc.metadata?.name, svc.metadata?.namespace, 'svc']);
    expect(Number(url.port)).toBe(svc.spec?.ports?.[0]?.port);
    expect(url.pathname).toBe('/loki/api/v1/push');
  });

  it('starts `narvi server` with a config narvi itself accepts', () => {
    const s = render(name);
    const { c } = serverOf(s);
    expect(c.command).toBeUndefined();
    expect(c.args?.[0]).toBe('server');
    const cfg = serverConfig(s);
    expect(cfg.server.address).toBe('0.0.0.0');
    expect(cfg.authEnabled).toBe(false);
  });
});

describe('what each overlay changes', () => {
  const base = () => render('base');
  const dev = () => render('overlays/dev');
  const prod = () => render('overlays/production');
  const images = (s: Stack) => [serverOf(s).c.image, agentOf(s).c.image];

  it('base leaves the image tag to the overlays', () => {
    expect(images(base())).toEqual(['narvi', 'narvi']);
  });

  it('dev: image tag dev, never pulled, small resources, a small volume, debug logging', () => {
    const d = dev();
    expect(images(d)).toEqual(['narvi:dev', 'narvi:dev']);
    expect(serverOf(d).c.imagePullPolicy).toBe('IfNotPresent');
    expect(agentOf(d).c.imagePullPolicy).toBe('IfNotPresent');
    for (const [of, what] of [[serverOf, 'server'], [agentOf, 'agent']] as const) {
      const b = resources(of(base()).c);
      const r = resources(of(d).c);
      expect(r.reqCpu, `${what} cpu request`).toBeLessThan(b.reqCpu);
      expect(r.reqMem, `${what} memory request`).toBeLessThan(b.reqMem);
      expect(r.limMem, `${what} memory limit`).toBeLessThan(b.limMem);
    }
    expect(pvcSize(serverOf(d).sts)).toBeLessThan(pvcSize(serverOf(base()).sts));
    // Through narvi's own loader: the env var reaches the config, and the base's env survived the patch.
    expect(serverConfig(d).server.logLevel).toBe('debug');
    expect(serverConfig(base()).server.logLevel).toBe('info');
    expect(literalEnv(serverOf(d).c).TMPDIR).toBe('/tmp');
  });

  it('production: one pinned release tag, larger resources and volume, agent priority', () => {
    const p = prod();
    const tags = images(p).map(imageTag);
    expect(new Set(tags).size).toBe(1);
    expect(tags[0]).toMatch(/^(v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?|sha256:[0-9a-f]{64})$/);
    for (const [of, what] of [[serverOf, 'server'], [agentOf, 'agent']] as const) {
      const b = resources(of(base()).c);
      const r = resources(of(p).c);
      expect(r.reqCpu, `${what} cpu request`).toBeGreaterThan(b.reqCpu);
      expect(r.reqMem, `${what} memory request`).toBeGreaterThan(b.reqMem);
      expect(r.limMem, `${what} memory limit`).toBeGreaterThan(b.limMem);
    }
    expect(pvcSize(serverOf(p).sts)).toBeGreaterThanOrEqual(100 * 2 ** 30);
    const pcName = podSpec(agentOf(p).ds).priorityClassName;
    expect(pcName).toBe('narvi-node-agent');
    const pc = p.get<IPriorityClass>('PriorityClass', pcName!);
    // Above every ordinary pod, below the system classes (user-defined values stop at one billion).
    expect(pc.value).toBeGreaterThan(0);
    expect(pc.value).toBeLessThanOrEqual(1_000_000_000);
    expect(pc.globalDefault ?? false).toBe(false);
    expect(podSpec(serverOf(p).sts).priorityClassName).toBeUndefined();
  });

  it('production: a PodDisruptionBudget that protects the server pod only', () => {
    const p = prod();
    const pdbs = p.all<IPodDisruptionBudget>('PodDisruptionBudget');
    expect(pdbs).toHaveLength(1);
    const pdb = pdbs[0]!;
    expect(selects(pdb.spec?.selector?.matchLabels, serverOf(p).sts.spec?.template.metadata?.labels)).toBe(true);
    expect(selects(pdb.spec?.selector?.matchLabels, agentOf(p).ds.spec?.template.metadata?.labels)).toBe(false);
    // With one replica, anything weaker than "keep one" would allow every eviction.
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(pdb.spec?.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
  });

  it('the PodDisruptionBudget and PriorityClass exist in production only', () => {
    for (const name of ['base', 'overlays/dev', 'overlays/agent-only']) {
      expect(render(name).all('PodDisruptionBudget'), name).toEqual([]);
      expect(render(name).all('PriorityClass'), name).toEqual([]);
    }
  });

  it('agent-only: no server at all, the agent pushes to the external URL of its config', () => {
    const a = render('overlays/agent-only');
    expect(a.all('StatefulSet')).toEqual([]);
    expect(a.all('Service')).toEqual([]);
    const url = new URL(agentConfig(a).client?.url ?? '');
    expect(url.protocol).toBe('https:');
    expect(url.hostname.endsWith('.svc')).toBe(false);
    expect(url.pathname).toBe('/loki/api/v1/push');
    // The replaced config still carries what the DaemonSet is built around.
    const base = agentConfig(render('base'));
    const cfg = agentConfig(a);
    expect([cfg.server, cfg.positions, cfg.kubernetes]).toEqual([base.server, base.positions, base.kubernetes]);
  });
});

/** Renders a kustomization written into a temp dir; `resources`/`components` are paths relative to deploy/. */
function renderTemp(name: string, yaml: (deployRel: string) => string, extra: Record<string, string> = {}): Stack {
  const dir = mkdtempSync(join(tmpdir(), 'narvi-kustomize-'));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), yaml(relative(dir, DEPLOY)));
    for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
    return new Stack(name, kustomize(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('components/agent-dac-read-search', () => {
  it('adds DAC_READ_SEARCH to the agent only, keeping everything else dropped', () => {
    const s = renderTemp('dev + agent-dac-read-search', (d) => `resources:\n  - ${d}/overlays/dev\ncomponents:\n  - ${d}/components/agent-dac-read-search\n`);
    for (const obj of s.objects) validateObject(obj);
    const caps = agentOf(s).c.securityContext?.capabilities;
    expect(caps?.add).toEqual(['DAC_READ_SEARCH']);
    expect(caps?.drop).toEqual(['ALL']);
    expect(serverOf(s).c.securityContext?.capabilities?.add).toBeUndefined();
  });
});

describe('the validation path', () => {
  it('rejects a container whose image is a number', () => {
    const good = agentOf(render('overlays/dev')).ds;
    expect(() => validateObject(good as unknown as K8sObject)).not.toThrow();
    const broken = structuredClone(good) as IDaemonSet;
    (broken.spec!.template.spec!.containers[0] as { image: unknown }).image = 12345;
    expect(() => validateObject(broken as unknown as K8sObject)).toThrow(/DaemonSet narvi\/narvi-agent violates the Kubernetes schema: .*image must be string/);
  });

  it('rejects a numeric image that came through kubectl kustomize from YAML', () => {
    const s = renderTemp('broken', () => 'resources:\n  - pod.yaml\n', {
      'pod.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\nspec:\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n        - name: x\n          image: 12345\n',
    });
    expect(() => validateObject(s.only('Deployment'))).toThrow(/image must be string/);
  });

  it('rejects a missing required field, a bad quantity and a bad name', () => {
    const good = serverOf(render('base')).sts;
    const noSelector = structuredClone(good) as IStatefulSet;
    delete (noSelector.spec as { selector?: unknown }).selector;
    expect(() => validateObject(noSelector as unknown as K8sObject)).toThrow(/selector/);
    const badCpu = structuredClone(good) as IStatefulSet;
    badCpu.spec!.template.spec!.containers[0]!.resources!.limits!.cpu = 'lots';
    expect(() => validateObject(badCpu as unknown as K8sObject)).toThrow(/cpu/);
    const badName = structuredClone(good) as IStatefulSet;
    badName.metadata!.name = 'Narvi_Server';
    expect(() => validateObject(badName as unknown as K8sObject)).toThrow(/metadata.name/);
  });

  it('rejects a kind it has no validator for instead of passing it unchecked', () => {
    expect(() => validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toThrow(/no schema validator for apiVersion "example.com\/v1" kind "Widget"/);
  });
});
