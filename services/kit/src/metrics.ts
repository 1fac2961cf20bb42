// Prometheus metrics with prom-client: one registry per daemon, every name weft_<service>_…,
// the default process metrics included.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

export interface Metrics {
  registry: Registry;
  /** "weft_config_api_" for service "config-api": the prefix every metric of the daemon takes. */
  prefix: string;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  /** A gauge; `collect`, when given, sets its value on each scrape (for values read elsewhere). */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames?: readonly L[],
    collect?: (gauge: Gauge<L>) => void,
  ): Gauge<L>;
  histogram<L extends string>(name: string, help: string, labelNames?: readonly L[], buckets?: number[]): Histogram<L>;
}

/** Latency buckets in seconds, from 100 µs to 10 s. */
export const LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  const prefix = `weft_${service.replace(/-/g, '_')}_`;
  collectDefaultMetrics({ register: registry, prefix });
  return {
    registry,
    prefix,
    counter: (name, help, labelNames = []) =>
      new Counter({ name: prefix + name, help, labelNames, registers: [registry] }),
    gauge: (name, help, labelNames = [], collect) =>
      new Gauge({
        name: prefix + name,
        help,
        labelNames,
        registers: [registry],
        ...(collect
          ? {
              collect(this: Gauge) {
                collect(this as Gauge<never>);
              },
            }
          : {}),
      }),
    histogram: (name, help, labelNames = [], buckets = LATENCY_BUCKETS) =>
      new Histogram({ name: prefix + name, help, labelNames, buckets, registers: [registry] }),
  };
}
