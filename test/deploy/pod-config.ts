import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { mountCovering, type Stack } from './stack.js';

/** The value of `--config.file` in a container's args, in either `--config.file=X` or `--config.file X` form. */
export function configFileArg(c: IContainer): string {
  const args = c.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--config.file=')) return a.slice('--config.file='.length);
    if (a === '--config.file' && args[i + 1]) return args[i + 1]!;
  }
  throw new Error(`container ${c.name} has no --config.file argument; args: ${JSON.stringify(args)}`);
}

/**
 * The text of the file the container will find at `--config.file`: follows the mount to its ConfigMap
 * volume and takes the key named like the file, as the kubelet projects it.
 */
export function mountedConfigText(stack: Stack, spec: IPodSpec, c: IContainer): { path: string; text: string } {
  const path = configFileArg(c);
  const mount = mountCovering(c, path);
  if (!mount) throw new Error(`${stack.name}: ${path} (--config.file of ${c.name}) is not on any volume mount`);
  const key = basename(path);
  const { name, data } = stack.configMapByVolume(spec, mount.name);
  const text = data[key];
  if (text === undefined) throw new Error(`${stack.name}: ConfigMap ${name} has no key ${key}; keys: ${Object.keys(data).join(', ')}`);
  return { path, text };
}

/** The container's literal env values (downward-API entries have no value and are left out). */
export function literalEnv(c: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

/** Calls `fn` with the args rewritten so `--config.file` points at a real temp copy of the mounted file. */
export function withMountedConfig<T>(stack: Stack, spec: IPodSpec, c: IContainer, fn: (args: string[]) => T): T {
  const { path, text } = mountedConfigText(stack, spec, c);
  const dir = mkdtempSync(join(tmpdir(), 'narvi-deploy-'));
  try {
    const file = join(dir, basename(path));
    writeFileSync(file, text);
    const args = (c.args ?? []).map((a) => (a === `--config.file=${path}` ? `--config.file=${file}` : a === path ? file : a));
    return fn(args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
