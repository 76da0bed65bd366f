import { loadRouterConfig } from '@corral/config';
import { runService } from '@corral/service';
import { startRouter } from './lib/router';

runService({
  name: 'router',
  loadConfig: loadRouterConfig,
  start: startRouter,
  graceMs: (config) => config.shutdownGraceMs,
});
