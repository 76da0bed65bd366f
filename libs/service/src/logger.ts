import pino, { type Logger } from 'pino';
import type { LogLevel } from '@corral/config';

export type { Logger };

/** One JSON object per line on stdout, each carrying the service and host it came from. */
export function createLogger(service: string, level: LogLevel, hostId?: string): Logger {
  return pino({
    level,
    base: hostId ? { service, host: hostId } : { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
