import { basename, dirname } from 'node:path';
import type { StaticTarget } from './config.js';
import { expandGlob, globMatches, hasMagic } from './glob.js';
import type { TailTarget } from './tailer.js';
import type { TargetSource } from './target-source.js';

/** Files matched by globs, each labelled with its target's labels plus `filename` (as promtail does). */
export class StaticTargets implements TargetSource {
  readonly name = 'static';

  constructor(private readonly targets: StaticTarget[]) {}

  async list(): Promise<TailTarget[]> {
    const out: TailTarget[] = [];
    const seen = new Set<string>();
    for (const t of this.targets) {
      for (const glob of t.paths) {
        for (const path of await expandGlob(glob)) {
          if (seen.has(path) || isCompressed(path)) continue;
          seen.add(path);
          out.push(this.targetOf(t, path));
        }
      }
    }
    return out;
  }

  targetFor(path: string): TailTarget | undefined {
    for (const t of this.targets) for (const glob of t.paths) if (globMatches(glob, path)) return this.targetOf(t, path);
    return undefined;
  }

  watchDirs(): string[] {
    const dirs = new Set<string>();
    for (const t of this.targets) {
      for (const glob of t.paths) {
        const d = dirname(glob);
        if (!hasMagic(d)) dirs.add(d);
      }
    }
    return [...dirs];
  }

  private targetOf(t: StaticTarget, path: string): TailTarget {
    return { path, labels: { ...t.labels, filename: path }, format: t.format, multiline: t.multiline };
  }
}

/** A glob like `*.log*` also matches compressed rotated copies, which cannot be tailed. */
function isCompressed(path: string): boolean {
  return /\.(gz|bz2|xz|zst|zip)$/.test(basename(path));
}
