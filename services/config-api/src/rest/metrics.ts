// REST metrics: requests by route, method and status, and their latency.
import type { Metrics } from '@weft/kit';
import type { FastifyInstance } from 'fastify';

export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  const requests = metrics.counter('http_requests_total', 'REST requests by route, method and status', [
    'route',
    'method',
    'status',
  ]);
  const latency = metrics.histogram('http_request_duration_seconds', 'REST request latency by route and method', [
    'route',
    'method',
  ]);
  // The series of each (route, method, status), looked up once: prom-client hashes the labels
  // on every call otherwise, a fair share of a cached read.
  const series = new Map<string, { count: { inc(): void }; time: { observe(seconds: number): void } }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${route} ${request.method} ${reply.statusCode}`;
    let found = series.get(key);
    if (!found) {
      found = {
        count: requests.labels({ route, method: request.method, status: String(reply.statusCode) }),
        time: latency.labels({ route, method: request.method }),
      };
      series.set(key, found);
    }
    found.count.inc();
    found.time.observe(reply.elapsedTime / 1000);
    done();
  });
}
