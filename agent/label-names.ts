import { isValidLabelName } from '../src/model/labels.js';

/**
 * Kubernetes label keys (`app.kubernetes.io/name`) are not valid Loki label names. Like Prometheus service
 * discovery, replace every disallowed character with `_` and prefix a leading digit, so the mapping is
 * predictable for people writing selectors.
 */
export function sanitizeLabelName(name: string): string {
  if (isValidLabelName(name)) return name;
  let out = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  return out;
}
