import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { objectId, type K8sObject } from './k8s-object.js';

// Every kubernetes-models class: construct from plain data, validate() throws on a schema violation.
type ModelClass = new (data: never) => { validate(): void };

/**
 * The kinds narvi's manifests may contain, keyed by apiVersion and kind, with whether the kind lives in a
 * namespace. Anything else fails validation: a kind nobody can check is a kind nobody has checked.
 */
const KINDS: Record<string, { model: ModelClass; namespaced: boolean }> = {
  'v1/Namespace': { model: Namespace, namespaced: false },
  'v1/ConfigMap': { model: ConfigMap, namespaced: true },
  'v1/Secret': { model: Secret, namespaced: true },
  'v1/Service': { model: Service, namespaced: true },
  'v1/ServiceAccount': { model: ServiceAccount, namespaced: true },
  'apps/v1/StatefulSet': { model: StatefulSet, namespaced: true },
  'apps/v1/DaemonSet': { model: DaemonSet, namespaced: true },
  'apps/v1/Deployment': { model: Deployment, namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole, namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { model: ClusterRoleBinding, namespaced: false },
  'rbac.authorization.k8s.io/v1/Role': { model: Role, namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { model: RoleBinding, namespaced: true },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, namespaced: true },
  'scheduling.k8s.io/v1/PriorityClass': { model: PriorityClass, namespaced: false },
};

// What the API server itself demands of metadata.name for these kinds (RFC 1123 subdomain).
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function kindOf(obj: K8sObject): { model: ModelClass; namespaced: boolean } {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const entry = KINDS[key];
  if (!entry) {
    throw new Error(`${objectId(obj)}: no schema validator for apiVersion "${obj.apiVersion}" kind "${obj.kind}"; known: ${Object.keys(KINDS).join(', ')}`);
  }
  return entry;
}

/** True for kinds that live in a namespace; throws for kinds without a validator. */
export function isNamespaced(obj: K8sObject): boolean {
  return kindOf(obj).namespaced;
}

/**
 * Validates one object against the Kubernetes OpenAPI schema (kubernetes-models) plus the name rules the
 * schema leaves to the API server. Throws an Error naming the object and every violation.
 */
export function validateObject(obj: K8sObject): void {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    throw new Error(`object without apiVersion/kind: ${JSON.stringify(obj).slice(0, 200)}`);
  }
  const { model } = kindOf(obj);
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name.length > 253 || !NAME.test(name)) {
    throw new Error(`${objectId(obj)}: metadata.name must be a lowercase RFC 1123 name of at most 253 characters, got ${JSON.stringify(name)}`);
  }
  try {
    new model(obj as never).validate();
  } catch (err) {
    throw new Error(`${objectId(obj)} violates the Kubernetes schema: ${(err as Error).message}`);
  }
}
