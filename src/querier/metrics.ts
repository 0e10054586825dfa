import { Counter, type Registry } from 'prom-client';
import type { DamageCounter } from './querier.js';

/** Chunks queries skipped because their object was missing or its bytes failed their checks. */
export function damagedChunkCounter(registry: Registry): DamageCounter {
  const c = new Counter({
    name: 'narvi_querier_damaged_chunks_total',
    help: 'Chunks a query skipped (answering with a warning) because the object was missing or corrupt, by kind; counted once per query that met them.',
    labelNames: ['kind'],
    registers: [registry],
  });
  return (kind) => c.inc({ kind });
}
