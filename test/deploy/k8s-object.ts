/** What every Kubernetes object has; kinds are narrowed to the kubernetes-models interfaces once validated. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

/** `apps/v1 DaemonSet narvi/narvi-agent`, for messages. */
export function objectId(obj: K8sObject): string {
  const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.apiVersion} ${obj.kind} ${ns}${obj.metadata?.name ?? '<no name>'}`;
}
