// What every daemon's HTTP side shares: /healthz, /readyz and /metrics, one error handler
// that turns catalog errors, schema validation failures and malformed bodies into a JSON body
// naming the field and the reason, and HTTPS when the daemon is given a certificate for it.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { WeftError } from './errors.js';
import type { TlsFiles } from './grpc.js';
import type { Readiness } from './health.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface OpsRoutesOptions {
  readiness: Readiness;
  metrics: Metrics;
}

/** Adds /healthz (the process lives), /readyz (every dependency reachable) and /metrics. */
export function registerOpsRoutes(app: FastifyInstance, { readiness, metrics }: OpsRoutesOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await readiness.report();
    const failing = report.checks.filter((check) => !check.ok);
    reply.code(report.ready ? 200 : 503);
    return { status: report.ready ? 'ready' : 'unready', failing, checks: report.checks };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/** Turns ajv's "/network_ipam_refs/0/attr" into "network_ipam_refs[0].attr". */
export function fieldFromInstancePath(instancePath: string, missingProperty?: string): string {
  const parts = instancePath.split('/').filter((part) => part !== '');
  if (missingProperty) parts.push(missingProperty);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/** The error body for anything a route throws; logs what is not the caller's fault. */
export function registerErrorHandler(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError | WeftError | Error, request, reply) => {
    if (error instanceof WeftError) {
      reply.code(error.httpStatus).send(error.toJSON());
      return;
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation && fastifyError.validation.length > 0) {
      const first = fastifyError.validation[0]!;
      const params = first.params as { missingProperty?: string; additionalProperty?: string };
      const field =
        fieldFromInstancePath(first.instancePath, params.missingProperty ?? params.additionalProperty) ||
        fastifyError.validationContext ||
        'body';
      const reason = params.additionalProperty ? 'is not a known field' : (first.message ?? 'is invalid');
      reply.code(400).send({
        error: { code: 'INVALID_FIELD', field, message: `${field}: ${reason}`, in: fastifyError.validationContext },
      });
      return;
    }
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      reply.code(fastifyError.statusCode).send({
        error: { code: fastifyError.code ?? 'BAD_REQUEST', field: 'body', message: fastifyError.message },
      });
      return;
    }
    logger.error({ err: error, url: request.url, method: request.method }, 'request failed');
    reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error; see the service log' } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: 'NO_SUCH_ROUTE', message: `no route ${request.method} ${request.url}` } });
  });
}

/**
 * Once the app is closing, every response ends its connection. Without it a client's kept-alive
 * connection keeps the server open after its last response, and a drain never ends.
 */
function closeConnectionsAfterResponseWhenClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
}

export interface HttpAppOptions extends OpsRoutesOptions {
  logger: Logger;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  fastify?: FastifyServerOptions;
  /** Serve HTTPS with this certificate and key (WEFT_HTTP_TLS); plain HTTP when not given. */
  tls?: TlsFiles;
}

/** fastify's https option from certificate files: HTTP clients prove themselves with tokens, not certificates. */
function httpsOf(tls: TlsFiles | undefined): { https?: { cert: Buffer; key: Buffer } } {
  if (!tls) return {};
  if (!tls.certFile || !tls.keyFile) throw new Error('HTTPS needs both a certificate and a key file');
  return { https: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } };
}

/**
 * JSON bodies as fastify parses them (with its prototype-poisoning guard), except that an empty
 * body is no body. Tungsten Fabric's clients and many HTTP libraries send
 * `content-type: application/json` on every request, a DELETE or GET with nothing in it too;
 * fastify's own parser refuses those with FST_ERR_CTP_EMPTY_JSON_BODY.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

/** A fastify app with the ops routes and the error handler; the service adds its own routes. */
export function createHttpApp({
  logger,
  readiness,
  metrics,
  bodyLimit = 1024 * 1024,
  fastify = {},
  tls,
}: HttpAppOptions) {
  // With `https` fastify makes an https.Server; the app's type stays the plain one, whose
  // surface (listen, address, close) the services use and both servers share.
  const app = Fastify({
    ...(httpsOf(tls) as FastifyServerOptions),
    // A line per request is noise at the default level; errors still log (fastify logs each
    // request at info, and its own warnings and errors above it).
    loggerInstance: logger.child(
      { component: 'http' },
      { level: logger.level === 'debug' || logger.level === 'trace' ? logger.level : 'warn' },
    ),
    bodyLimit,
    // Timeouts on every connection: a client that sends its request slowly (or not at all) is
    // cut off instead of holding a socket; an idle kept-alive connection closes. Answers that
    // stream (server-sent events) are not bounded by these: they bound receiving a request.
    connectionTimeout: 120_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    // Refuse new requests on kept-alive connections while closing, so a drain ends.
    return503OnClosing: true,
    // Unknown fields are an error the caller must hear about, not something to drop silently
    // (fastify's default removes them).
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    ...fastify,
  });
  acceptEmptyJsonBodies(app);
  registerErrorHandler(app, logger);
  registerOpsRoutes(app, { readiness, metrics });
  closeConnectionsAfterResponseWhenClosing(app);
  return app;
}
