import type { Registry } from 'prom-client';

const TENANT_LABEL = 'tenant';

interface JsonValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * The registry in Prometheus text format with the `tenant` label summed away: with auth on, /metrics is
 * usually scraped without a tenant, and tenant ids are not for every scraper to list. Counters, gauges
 * and histogram series that differed only by tenant become one series with their sum.
 */
export async function metricsWithoutTenants(registry: Registry): Promise<string> {
  const metrics = (await registry.getMetricsAsJSON()) as unknown as { name: string; help: string; type: string; values: JsonValue[] }[];
  const out: string[] = [];
  for (const m of metrics) {
    out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${m.name} ${m.type}`);
    const series = new Map<string, { name: string; labels: [string, string][]; value: number }>();
    for (const v of m.values) {
      const labels = Object.entries(v.labels)
        .filter(([k]) => k !== TENANT_LABEL)
        .map(([k, x]): [string, string] => [k, String(x)]);
      const name = v.metricName ?? m.name;
      const key = name + '\u0000' + JSON.stringify(labels);
      const s = series.get(key);
      if (s) s.value += v.value;
      else series.set(key, { name, labels, value: v.value });
    }
    for (const s of series.values()) {
      const l = s.labels.length > 0 ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${s.name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}
