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
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });
}
