import { Counter, Gauge, type Registry } from 'prom-client';

export interface DistributorMetrics {
  entriesReceived: Counter<'tenant'>;
  bytesReceived: Counter<'tenant'>;
  entriesRejected: Counter<'tenant' | 'reason'>;
  bytesRejected: Counter<'tenant' | 'reason'>;
  linesTruncated: Counter<'tenant'>;
  inflightRefused: Counter<'tenant'>;
}

/** `inflightBytes` reads what pushes hold of `distributor.max_inflight_push_bytes` at scrape time. */
export function distributorMetrics(registry: Registry, inflightBytes?: () => number): DistributorMetrics {
  if (inflightBytes) {
    new Gauge({
      name: 'narvi_distributor_inflight_push_bytes',
      help: 'Bytes of push bodies being read, inflated, decoded or written to the WAL (distributor.max_inflight_push_bytes bounds them).',
      registers: [registry],
      collect() {
        this.set(inflightBytes());
      },
    });
  }
  return {
    inflightRefused: new Counter({ name: 'narvi_distributor_inflight_push_refused_total', help: 'Pushes answered 429 because they would pass distributor.max_inflight_push_bytes, per tenant.', labelNames: ['tenant'], registers: [registry] }),
    entriesReceived: new Counter({ name: 'narvi_distributor_lines_received_total', help: 'Log lines accepted by the distributor, per tenant.', labelNames: ['tenant'], registers: [registry] }),
    bytesReceived: new Counter({ name: 'narvi_distributor_bytes_received_total', help: 'Bytes of log lines accepted by the distributor, per tenant.', labelNames: ['tenant'], registers: [registry] }),
    entriesRejected: new Counter({ name: 'narvi_discarded_samples_total', help: 'Log lines rejected, per tenant and reason.', labelNames: ['tenant', 'reason'], registers: [registry] }),
    bytesRejected: new Counter({ name: 'narvi_discarded_bytes_total', help: 'Bytes of log lines rejected, per tenant and reason.', labelNames: ['tenant', 'reason'], registers: [registry] }),
    linesTruncated: new Counter({ name: 'narvi_distributor_lines_truncated_total', help: 'Log lines cut to limits.max_line_size.', labelNames: ['tenant'], registers: [registry] }),
  };
}
