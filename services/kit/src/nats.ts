// The daemon's NATS connection: connects in the background and keeps reconnecting forever, so
// a daemon starts (unready) while the bus is down and recovers by itself when it returns.
// The state shows as the gauge weft_<service>_nats_connected and as the readiness check "nats".
import { type ConnectionOptions, connect, type NatsConnection } from 'nats';
import type { TlsFiles } from './grpc.js';
import type { Readiness } from './health.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export type { NatsConnection };

export interface NatsLinkOptions {
  servers: string[];
  /** Client name shown by the server, e.g. "weft-control". */
  name: string;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** TLS for the connection (client certificate, CA); plaintext when not given. */
  tls?: TlsFiles;
  /** Extra options for the nats client (credentials). */
  connectOptions?: Partial<ConnectionOptions>;
}

export class NatsLink {
  #connection: NatsConnection | undefined;
  #connected = false;
  #closed = false;
  readonly #firstConnect: Promise<NatsConnection>;
  readonly #logger: Logger;

  constructor(private readonly options: NatsLinkOptions) {
    this.#logger = options.logger.child({ component: 'nats' });
    const gauge = options.metrics.gauge('nats_connected', '1 while the NATS connection is up');
    gauge.set(0);
    options.readiness.declare('nats', () =>
      this.#connected ? undefined : `not connected to NATS at ${options.servers.join(',')}`,
    );
    this.#firstConnect = this.#connectUntilUp((up) => gauge.set(up ? 1 : 0));
    this.#firstConnect.catch(() => {});
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  /** The connection once it is up; waits for the first connect. */
  connection(): Promise<NatsConnection> {
    return this.#firstConnect;
  }

  /** The connection if it was ever established, for code that may drop a message instead of waiting. */
  get current(): NatsConnection | undefined {
    return this.#connection;
  }

  async #connectUntilUp(setGauge: (up: boolean) => void): Promise<NatsConnection> {
    let attempt = 0;
    for (;;) {
      if (this.#closed) throw new Error('NATS link closed before it connected');
      try {
        const connection = await connect({
          servers: this.options.servers,
          name: this.options.name,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          pingInterval: 10_000,
          ...(this.options.tls ? { tls: { ...this.options.tls } } : {}),
          ...this.options.connectOptions,
        });
        this.#connection = connection;
        this.#setConnected(true, setGauge);
        this.#logger.info({ server: connection.getServer() }, 'connected to NATS');
        void this.#watchStatus(connection, setGauge);
        return connection;
      } catch (error) {
        attempt += 1;
        if (attempt === 1 || attempt % 20 === 0) {
          this.#logger.warn({ err: error, servers: this.options.servers, attempt }, 'NATS not reachable; retrying');
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2_000)));
      }
    }
  }

  #setConnected(up: boolean, setGauge: (up: boolean) => void) {
    this.#connected = up;
    setGauge(up);
  }

  async #watchStatus(connection: NatsConnection, setGauge: (up: boolean) => void) {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        this.#setConnected(false, setGauge);
        this.#logger.warn('disconnected from NATS; reconnecting');
      } else if (status.type === 'reconnect') {
        this.#setConnected(true, setGauge);
        this.#logger.info('reconnected to NATS');
      }
    }
    this.#setConnected(false, setGauge);
  }

  /** Flushes what is buffered and closes; safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    const connection = this.#connection;
    if (!connection || connection.isClosed()) return;
    // A drain while the server is away returns without closing, and the client would go on
    // reconnecting and keep the process alive.
    await connection.drain().catch(() => undefined);
    if (!connection.isClosed()) await connection.close();
  }
}
