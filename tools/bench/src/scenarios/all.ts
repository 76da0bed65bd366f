import { SCENARIO_IDS } from '../args';
import { boot } from './boot';
import { cli } from './cli';
import { compat } from './compat';
import { judging } from './judging';
import { latency } from './latency';
import { mixed } from './mixed';
import { netprov } from './netprov';
import { output } from './output';
import { programs } from './programs';
import { streaming } from './streaming';
import { overhead } from './overhead';
import type { Need, Scenario } from './scenario';
import { throughput } from './throughput';
import { watchdog } from './watchdog';

/**
 * Every scenario, in the order they run: those without the stack first (boot with nothing else
 * running), then those on the stack, the hostile programs last. The report orders them by number.
 */
export const SCENARIOS: readonly Scenario<unknown, Need>[] = [boot, watchdog, netprov, latency, overhead, programs, judging, cli, streaming, compat, throughput, output, mixed];

/** `scenarios` in the report's order: by number (1. latency … 10. judging). */
export function inReportOrder<S extends { id: (typeof SCENARIO_IDS)[number] }>(scenarios: readonly S[]): S[] {
  return [...scenarios].sort((a, b) => SCENARIO_IDS.indexOf(a.id) - SCENARIO_IDS.indexOf(b.id));
}
