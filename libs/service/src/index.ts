export { createLogger, type Logger } from './logger';
export { runLoop } from './loop';
export { runService, type Running, type ServiceSpec } from './service';
