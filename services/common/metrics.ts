import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The counters every component keeps (Vector's component spec: received, sent, dropped,
 * failed), plus the registry for stage-specific ones.
 */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const labelNames = ['component'] as const;
  return {
    registry,
    received: new Counter({ name: 'podwatch_component_received_total', help: 'Records a component received', labelNames, registers: [registry] }),
    sent: new Counter({ name: 'podwatch_component_sent_total', help: 'Records a component passed on', labelNames, registers: [registry] }),
    dropped: new Counter({ name: 'podwatch_component_dropped_total', help: 'Records intentionally not passed on (with reason)', labelNames: ['component', 'reason'], registers: [registry] }),
    failed: new Counter({ name: 'podwatch_component_failed_total', help: 'Errors a component met (with kind)', labelNames: ['component', 'kind'], registers: [registry] }),
    counter: (name: string, help: string, labels: string[] = []) =>
      (registry.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({ name, help, labelNames: labels, registers: [registry] }),
    gauge: (name: string, help: string, labels: string[] = []) =>
      (registry.getSingleMetric(name) as Gauge<string> | undefined) ?? new Gauge({ name, help, labelNames: labels, registers: [registry] }),
    histogram: (name: string, help: string, buckets: number[], labels: string[] = []) =>
      (registry.getSingleMetric(name) as Histogram<string> | undefined) ?? new Histogram({ name, help, buckets, labelNames: labels, registers: [registry] }),
  };
}
