export {
  LOG_LEVELS,
  type ApiKey,
  configVariables,
  loadNetprovConfig,
  loadRouterConfig,
  loadWatchdogConfig,
  loadWorkerConfig,
  type CommonConfig,
  type LogLevel,
  type NetprovConfig,
  type RouterConfig,
  type ServiceName,
  type WatchdogConfig,
  type WorkerConfig,
} from './config';
export { ConfigError, EnvReader, type Env } from './env';
