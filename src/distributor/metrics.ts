import { Counter, type Registry } from 'prom-client';

export interface DistributorMetrics {
  entriesReceived: Counter<'tenant'>;
  bytesReceived: Counter<'tenant'>;
  entriesRejected: Counter<'tenant' | 'reason'>;
  bytesRejected: Counter<'tenant' | 'reason'>;
  linesTruncated: Counter<'tenant'>;
}

export function distributorMetrics(registry: Registry): DistributorMetrics {
  return {
    entriesReceived: new Counter({ name: 'narvi_distributor_lines_received_total', help: 'Log lines accepted by the distributor, per tenant.', labelNames: ['tenant'], registers: [registry] }),
    bytesReceived: new Counter({ name: 'narvi_distributor_bytes_received_total', help: 'Bytes of log lines accepted by the distributor, per tenant.', labelNames: ['tenant'], registers: [registry] }),
    entriesRejected: new Counter({ name: 'narvi_discarded_samples_total', help: 'Log lines rejected, per tenant and reason.', labelNames: ['tenant', 'reason'], registers: [registry] }),
    bytesRejected: new Counter({ name: 'narvi_discarded_bytes_total', help: 'Bytes of log lines rejected, per tenant and reason.', labelNames: ['tenant', 'reason'], registers: [registry] }),
    linesTruncated: new Counter({ name: 'narvi_distributor_lines_truncated_total', help: 'Log lines cut to limits.max_line_size.', labelNames: ['tenant'], registers: [registry] }),
  };
}
