import type { NetprovConfig } from '@corral/config';
import type { SlotAddress, SlotRecord } from '@corral/contracts';
import type { CliIo, CliOptions } from './cli';
import { planLoopback } from './loopback';
import { span, table } from './output';
import { connectRegistry } from './registry';

function slotTable(slots: readonly SlotRecord[]): string {
  return table([['SLOT', 'ADDRESS', 'PORT', 'STATE', 'PID'], ...slots.map((s) => [s.id, s.ip, String(s.port ?? '-'), s.state, String(s.pid ?? '-')])]);
}

/** The loopback backend: nothing to create in the kernel (127/8 routes to lo), only the inventory. */
export async function runLoopback(command: string, options: CliOptions, config: Readonly<NetprovConfig>, io: CliIo): Promise<number> {
  const host = config.hostId;
  let plan: SlotAddress[] = [];
  if (command === 'up') plan = planLoopback(host, options.count ?? 0, options.base ?? config.loopbackBase);
  if (options.dryRun && command !== 'ls') {
    io.out(command === 'up' ? `would reconcile host ${host} to ${plan.length} loopback slots: ${span(plan)}` : `would remove every slot of host ${host}`);
    return 0;
  }
  const registry = await connectRegistry(config);
  try {
    if (command === 'ls') {
      const slots = await registry.slots.list(host);
      io.out(options.json ? JSON.stringify(slots, null, 2) : slots.length > 0 ? slotTable(slots) : `host ${host} has no slots`);
      return 0;
    }
    const { added, removed, changed } = await registry.slots.publish(host, config.backend, plan);
    io.out(
      command === 'up'
        ? `host ${host}: ${plan.length} loopback slots, ${span(plan)} (added ${added}, removed ${removed}, changed ${changed})`
        : `host ${host}: removed ${removed} slots`,
    );
    return 0;
  } finally {
    await registry.close();
  }
}
