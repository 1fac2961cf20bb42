// JSON logs with pino: one root logger per daemon, one child per component, secrets redacted.
import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Field paths that never reach a log line in clear. pino's paths take one wildcard per level,
 * so the common nestings are listed.
 */
export const REDACTED_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.*.password',
  '*.*.token',
  '*.*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  // Tungsten Fabric's header for the same token.
  'req.headers["x-auth-token"]',
  'headers["x-auth-token"]',
];

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout when not given. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { service: `weft-${service}`, host: hostname(), pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
