import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import YAML from 'yaml';
import { objectId, type K8sObject } from './k8s-object.js';

/** A rendered set of manifests, read by kind and name. Lookups that find nothing throw with what exists. */
export class Stack {
  constructor(
    readonly name: string,
    readonly objects: K8sObject[],
  ) {}

  all<T = K8sObject>(kind: string): T[] {
    return this.objects.filter((o) => o.kind === kind) as T[];
  }

  find<T = K8sObject>(kind: string, name: string): T | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;
  }

  get<T = K8sObject>(kind: string, name: string): T {
    const found = this.find<T>(kind, name);
    if (!found) throw new Error(`${this.name}: no ${kind} named ${name}; rendered: ${this.objects.map(objectId).join(', ')}`);
    return found;
  }

  /** The one object of a kind (the server StatefulSet, the agent DaemonSet). */
  only<T = K8sObject>(kind: string): T {
    const list = this.all<T>(kind);
    if (list.length !== 1) throw new Error(`${this.name}: expected exactly one ${kind}, found ${list.length}`);
    return list[0]!;
  }

  /** The ConfigMap a pod volume projects, found by the name in the volume (hash suffix included). */
  configMapByVolume(spec: IPodSpec, volumeName: string): { name: string; data: Record<string, string> } {
    const vol = spec.volumes?.find((v) => v.name === volumeName);
    const cmName = vol?.configMap?.name;
    if (!cmName) throw new Error(`${this.name}: pod has no configMap volume named ${volumeName}`);
    const cm = this.get<{ data?: Record<string, string> }>('ConfigMap', cmName);
    return { name: cmName, data: cm.data ?? {} };
  }
}

export function podSpec(workload: IStatefulSet | IDaemonSet): IPodSpec {
  const spec = workload.spec?.template.spec;
  if (!spec) throw new Error(`${workload.kind} ${workload.metadata?.name} has no pod template spec`);
  return spec;
}

export function container(spec: IPodSpec, name: string): IContainer {
  const c = spec.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}; containers: ${spec.containers.map((x) => x.name).join(', ')}`);
  return c;
}

/** A probe or Service port as a number: named ports are looked up in the container's ports. */
export function resolvePort(c: IContainer, port: string | number | undefined): number {
  if (typeof port === 'number') return port;
  const p = c.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`container ${c.name} has no port named ${String(port)}`);
  return p.containerPort;
}

/** The directory mounted at `path` or at a parent of it, with the mount that covers it. */
export function mountCovering(c: IContainer, path: string): { name: string; mountPath: string; readOnly?: boolean } | undefined {
  const mounts = (c.volumeMounts ?? []).filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/$/, '') + '/'));
  // The deepest mount wins, as in the container's filesystem.
  return mounts.sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

/** True when every label of the selector is on the pod template. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function parseYamlFile(text: string, what: string): Record<string, unknown> {
  const doc: unknown = YAML.parse(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${what} is not a YAML mapping`);
  return doc as Record<string, unknown>;
}
