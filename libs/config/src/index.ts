export {
  LOG_LEVELS,
  type ApiKey,
  type BackgroundConfig,
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
export { parseAllowEntry, type WebhookAllowEntry, type WebhookConfig } from './webhooks';
