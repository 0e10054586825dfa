import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Labels } from '../src/model/labels.js';
import type { AgentConfig } from './config.js';
import type { KubeMetadata } from './kube-api.js';
import { PodLabelFilter } from './pod-labels.js';
import type { TailTarget } from './tailer.js';
import type { TargetSource } from './target-source.js';

/** `<namespace>_<pod>_<uid>`: names are DNS labels and the uid a UUID, so none contains `_`. */
export function parsePodDir(name: string): { namespace: string; pod: string; uid: string } | undefined {
  const parts = name.split('_');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  return { namespace: parts[0]!, pod: parts[1]!, uid: parts[2]! };
}

/** kubelet names a container's logs `<restart count>.log`; rotated copies get a suffix and are not tailed. */
const LOG_FILE = /^[^.][^/]*\.log$/;

/**
 * Kubernetes pod logs as kubelet lays them out: `<pods_root>/<namespace>_<pod>_<uid>/<container>/<n>.log`.
 * Each file is labelled namespace, pod, container, node and job (`<namespace>/<pod>`), plus those of the pod's
 * own labels that kubernetes.pod_labels lets through, when the API client knows them.
 */
export class PodsDiscovery implements TargetSource {
  readonly name = 'kubernetes';
  private firstSeen = new Map<string, number>();
  private readonly podLabels: PodLabelFilter;

  constructor(
    private readonly cfg: AgentConfig['kubernetes'],
    private readonly kube: KubeMetadata | undefined,
  ) {
    this.podLabels = new PodLabelFilter(cfg.podLabels);
  }

  async list(): Promise<TailTarget[]> {
    const out: TailTarget[] = [];
    const now = Date.now();
    const seen = new Set<string>();
    for (const podDir of await dirs(this.cfg.podsRoot)) {
      const pod = parsePodDir(podDir);
      if (!pod) continue;
      seen.add(pod.uid);
      if (!this.firstSeen.has(pod.uid)) this.firstSeen.set(pod.uid, now);
      // A pod created a moment ago may not have reached our watch yet: give its labels a short while.
      if (this.kube && this.kube.labelsFor(pod.uid) === undefined && now - this.firstSeen.get(pod.uid)! < this.cfg.metadataWaitMs) continue;
      for (const container of await dirs(join(this.cfg.podsRoot, podDir))) {
        const cdir = join(this.cfg.podsRoot, podDir, container);
        let files: string[];
        try {
          files = await readdir(cdir);
        } catch {
          continue;
        }
        for (const f of files) if (LOG_FILE.test(f)) out.push(this.targetOf(pod, container, join(cdir, f)));
      }
    }
    for (const uid of this.firstSeen.keys()) if (!seen.has(uid)) this.firstSeen.delete(uid);
    return out;
  }

  targetFor(path: string): TailTarget | undefined {
    const rel = relative(this.cfg.podsRoot, path).split(sep);
    if (rel.length !== 3 || rel[0] === '..') return undefined;
    const pod = parsePodDir(rel[0]!);
    if (!pod) return undefined;
    return this.targetOf(pod, rel[1]!, path);
  }

  watchDirs(): string[] {
    return [this.cfg.podsRoot];
  }

  labelsOf(pod: { namespace: string; pod: string; uid: string }, container: string): Labels {
    const base: Labels = {
      namespace: pod.namespace,
      pod: pod.pod,
      container,
      node: this.cfg.nodeName,
      job: `${pod.namespace}/${pod.pod}`,
    };
    const extra = this.kube?.labelsFor(pod.uid);
    // Discovered labels win over pod labels of the same name.
    return extra ? { ...this.podLabels.apply(extra), ...base } : base;
  }

  private targetOf(pod: { namespace: string; pod: string; uid: string }, container: string, path: string): TailTarget {
    return { path, labels: this.labelsOf(pod, container), format: this.cfg.format, multiline: this.cfg.multiline };
  }
}

async function dirs(p: string): Promise<string[]> {
  try {
    return (await readdir(p, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}
