import './lean-heap';
import { loadWatchdogConfig } from '@corral/config';
import { runService } from '@corral/service';
import { startWatchdog } from './lib/watchdog';

runService({ name: 'watchdog', loadConfig: loadWatchdogConfig, start: startWatchdog });
