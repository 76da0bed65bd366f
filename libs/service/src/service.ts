import { ConfigError, type CommonConfig } from '@corral/config';
import { createLogger, type Logger } from './logger';

/** A started service: `close` stops accepting work, finishes or fails what is in flight, quits Redis. */
export interface Running {
  close(): Promise<void>;
}

export interface ServiceSpec<C extends CommonConfig> {
  name: string;
  loadConfig: (env: NodeJS.ProcessEnv) => Readonly<C>;
  start: (config: Readonly<C>, log: Logger) => Promise<Running>;
  /** How long `close` may take before the process exits anyway. */
  graceMs?: (config: Readonly<C>) => number;
}

/**
 * Every main.ts ends with this: load config once, build and start, close gracefully on SIGTERM
 * or SIGINT, exit at once on a second signal. A bad configuration exits 2 with every problem
 * listed; a failed start exits 1.
 */
export function runService<C extends CommonConfig>(spec: ServiceSpec<C>): void {
  let config: Readonly<C>;
  try {
    config = spec.loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${spec.name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(spec.name, config.logLevel, config.hostId);
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });

  let running: Running | undefined;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down');
    const graceMs = spec.graceMs?.(config) ?? 10_000;
    setTimeout(() => {
      log.error({ graceMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, graceMs + 2000).unref();
    (running ? running.close() : Promise.resolve()).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  spec.start(config, log).then(
    (started) => {
      running = started;
      if (closing) void started.close().finally(() => process.exit(0));
    },
    (err: unknown) => {
      log.fatal({ err }, 'failed to start');
      process.exit(1);
    },
  );
}
