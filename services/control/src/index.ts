// @weft/control's public surface: start a control replica in-process (tests of other packages
// use this), and the simulated agent that speaks the real Agent contract.
import { createLogger, createMetrics, LOG_LEVELS, Readiness } from '@weft/kit';
import { buildControl } from './app.js';
import { controlOptions } from './options.js';

export { SimulatedAgent, type SimulatedAgentOptions } from './testing/simulated-agent.js';

export interface StartControlOptions {
  /** host:port of config-api's gRPC Config service. */
  configApiGrpc: string;
  /** File holding the token for config-api; none: config-api runs without authentication. */
  configApiTokenFile?: string;
  natsUrl?: string[];
  /** Agent gRPC port; 0 (the default here) takes a free one. */
  agentPort?: number;
  /** Introspection HTTP port; 0 (the default here) takes a free one. */
  httpPort?: number;
  host?: string;
  agentHoldTimeMs?: number;
  /** Past the hold time, how long a disconnected agent's routes stay as stale (the daemon's default). */
  agentStaleTimeMs?: number;
  logLevel?: string;
  /** Replica name in UVEs. */
  name?: string;
}

export interface RunningControl {
  /** host:port agents connect to. */
  agentAddress: string;
  /** Base URL of introspection, health and metrics. */
  httpUrl: string;
  /** Hands the agents routes as if the gateways offered them over BGP (a test without a speaker). */
  learntFromGateways(paths: { prefix: string; nextHop: string }[]): void;
  close(): Promise<void>;
}

export async function startControl(options: StartControlOptions): Promise<RunningControl> {
  const host = options.host ?? '127.0.0.1';
  const level = options.logLevel ?? 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`logLevel: ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const logger = createLogger({ service: 'control', level });
  const control = buildControl({
    configApiGrpc: options.configApiGrpc,
    configApiTokenFile: options.configApiTokenFile,
    natsUrl: options.natsUrl,
    agentPort: options.agentPort ?? 0,
    httpPort: options.httpPort ?? 0,
    host,
    agentHoldTimeMs: options.agentHoldTimeMs ?? 10_000,
    agentStaleTimeMs: options.agentStaleTimeMs ?? controlOptions.agentStaleTime.default,
    name: options.name,
    logger,
    metrics: createMetrics('control'),
    readiness: new Readiness(),
  });
  const { agentPort, httpPort } = await control.listen();
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    agentAddress: `${shown}:${agentPort}`,
    httpUrl: `http://${shown}:${httpPort}`,
    learntFromGateways: (paths) => control.hub.gatewayRoutesLearnt(paths),
    close: () => control.close(),
  };
}
