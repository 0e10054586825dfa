import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import type { K8sObject } from './k8s-object.js';

/** kubectl renders deploy/ with its built-in Kustomize; KUBECTL may point at another binary. */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

const INSTALL_HINT = 'install it with `apt-get install kubectl` (Debian package; .ci/run does this)';

function run(args: string[], cwd?: string): string {
  const res = spawnSync(KUBECTL, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${KUBECTL} not found on PATH: the manifest tests need it to render deploy/; ${INSTALL_HINT}`);
    throw new Error(`${KUBECTL} ${args.join(' ')} could not run: ${res.error.message}`);
  }
  if (res.status !== 0) throw new Error(`${KUBECTL} ${args.join(' ')} exited with ${res.status}:\n${res.stderr}`);
  return res.stdout;
}

/** `kubectl version --client`, proving kubectl is there before anything is rendered. */
export function kubectlVersion(): string {
  return run(['version', '--client']);
}

/** Runs the real `kubectl kustomize DIR` and returns every rendered object. */
export function kustomize(dir: string): K8sObject[] {
  return parseManifests(run(['kustomize', dir]), `kubectl kustomize ${dir}`);
}

/** Splits a multi-document YAML stream into objects; a document that is not a mapping is an error. */
export function parseManifests(text: string, source: string): K8sObject[] {
  const out: K8sObject[] = [];
  YAML.parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${i} is not valid YAML: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: document ${i} is not a mapping`);
    out.push(value as K8sObject);
  });
  return out;
}
