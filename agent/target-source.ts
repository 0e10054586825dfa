import type { TailTarget } from './tailer.js';

/** Something that says which files to tail, with which labels: the pods directory or static globs. */
export interface TargetSource {
  readonly name: string;
  /** The files that should be tailed now. */
  list(): Promise<TailTarget[]>;
  /** The target a path would belong to, even if the file is no longer there (to finish a rotated file). */
  targetFor(path: string): TailTarget | undefined;
  /** Directories whose changes should trigger an early sync (new pods, new files). */
  watchDirs(): string[];
  stop?(): void;
}
