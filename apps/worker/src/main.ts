import { loadWorkerConfig } from '@corral/config';
import { runService } from '@corral/service';
import { startWorker } from './lib/worker';

runService({
  name: 'worker',
  loadConfig: loadWorkerConfig,
  start: startWorker,
  graceMs: (config) => config.shutdownGraceMs,
});
