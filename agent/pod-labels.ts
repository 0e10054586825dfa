import type { Labels } from '../src/model/labels.js';
import { sanitizeLabelName } from './label-names.js';

/** The labels the agent gives every pod log file itself; a pod label of the same name never wins. */
export const BASE_POD_TARGET_LABELS: readonly string[] = ['namespace', 'pod', 'container', 'node', 'job'];

/**
 * Pod labels that become stream labels by default: the ones that name a workload (Kubernetes' recommended
 * `app.kubernetes.io/*` labels, and the older `app` and `component`), whose values are few and stable.
 * Everything else stays off unless promoted: pods carry labels such as `pod-template-hash`,
 * `controller-revision-hash` or `batch.kubernetes.io/controller-uid` whose values change on every rollout or
 * job, and charts add a dozen more. Each one is another label name and more values in the index, and a pod
 * with many of them overflows the server's label-name limit per stream (`limits.max_label_names_per_series`,
 * 15 in narvi and Loki), which rejects every line of it. `app.kubernetes.io/version` is left out too: its value
 * changes with every release and it does not identify the workload.
 */
export const DEFAULT_POD_LABELS: readonly string[] = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app',
  'component',
];

/** `kubernetes.pod_labels` (keys promoted on top of the defaults) and `kubernetes.pod_labels_all`. */
export interface PodLabelRules {
  promote: string[];
  all: boolean;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label key: `[prefix/]name`, the prefix a DNS subdomain. */
export function isPodLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

/**
 * Chooses which of a pod's labels (already sanitized, as KubeMetadata returns them) go on its streams. Keys are
 * compared in their sanitized form, so `app.kubernetes.io/version` and `app_kubernetes_io_version` in the
 * configuration mean the same label.
 */
export class PodLabelFilter {
  /** Sanitized names to keep; undefined keeps all. */
  private readonly keep: ReadonlySet<string> | undefined;

  constructor(rules: PodLabelRules) {
    this.keep = rules.all ? undefined : new Set([...DEFAULT_POD_LABELS, ...rules.promote].map(sanitizeLabelName));
  }

  apply(podLabels: Labels): Labels {
    if (!this.keep) return podLabels;
    const out: Labels = {};
    for (const [name, value] of Object.entries(podLabels)) if (this.keep.has(name)) out[name] = value;
    return out;
  }
}
