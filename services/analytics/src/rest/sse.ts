// Server-sent event streams (uve-stream, alarm-stream): each client gets its own response
// kept open; closing the app ends every stream so that a drain finishes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const HEARTBEAT_MS = 15_000;

export interface SseStream {
  send(event: string, data: unknown): void;
  onClose(listener: () => void): void;
}

export function registerSseStreams(app: FastifyInstance): (request: FastifyRequest, reply: FastifyReply) => SseStream {
  const open = new Set<FastifyReply>();
  app.addHook('preClose', async () => {
    for (const reply of open) reply.raw.end();
    open.clear();
  });
  return (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // A comment line first, so a client sees the stream open before the first event.
    reply.raw.write(': weft analytics stream\n\n');
    open.add(reply);
    // A comment now and then keeps proxies and load balancers from closing a quiet stream.
    const heartbeat = setInterval(() => {
      if (!reply.raw.writableEnded) reply.raw.write(': ping\n\n');
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const closers: (() => void)[] = [() => clearInterval(heartbeat)];
    request.raw.once('close', () => {
      open.delete(reply);
      for (const close of closers) close();
    });
    return {
      send(event, data) {
        if (!reply.raw.writableEnded) reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      onClose(listener) {
        closers.push(listener);
      },
    };
  };
}
