import type { Labels } from '../model/labels.js';

/** The label Loki 3 gives every pushed stream, so Grafana's Logs Drilldown can list services. */
export const SERVICE_NAME = 'service_name';
/** Its value when none of the discovery labels is present. */
export const UNKNOWN_SERVICE = 'unknown_service';

// Streams Loki writes for itself (aggregated metrics, patterns) keep their labels as they are.
const INTERNAL_LABELS = ['__aggregated_metric__', '__pattern__'];

/**
 * `labels` with `service_name` added as Loki's distributor adds it (limits.discover_service_name): when the
 * stream has no `service_name` and the list is not empty, the value of the first label of `discover`
 * the stream has (labels with empty values were already dropped), else `unknown_service`. `labels` come
 * sorted by name, as validation builds them. Returns the
 * same object when nothing is added; otherwise a new one whose names stay sorted.
 */
export function withServiceName(labels: Labels, discover: readonly string[]): Labels {
  if (discover.length === 0 || SERVICE_NAME in labels) return labels;
  for (const n of INTERNAL_LABELS) if (n in labels) return labels;
  let value = UNKNOWN_SERVICE;
  for (const n of discover) {
    const v = labels[n];
    if (v !== undefined && v !== '') {
      value = v;
      break;
    }
  }
  const out = Object.create(null) as Labels;
  let placed = false;
  for (const n in labels) {
    if (!placed && n > SERVICE_NAME) {
      out[SERVICE_NAME] = value;
      placed = true;
    }
    out[n] = labels[n]!;
  }
  if (!placed) out[SERVICE_NAME] = value;
  return out;
}
