import { join } from 'node:path';
import type { NetprovConfig } from '@corral/config';
import type { SlotRecord } from '@corral/contracts';
import { parseCidr } from './cidr';
import type { CliIo, CliOptions } from './cli';
import { readKernelState } from './kernel-state';
import { connectRegistry } from './registry';
import { names, NETNS_DIR } from './names';
import { span, seconds, table } from './output';
import { planTap } from './plan-tap';
import { planDown, planNetns } from './plan-netns';
import { checkNeeds } from './privileges';
import { applyPlan, describePlan, desiredSlots, hasChanges } from './provision';
import { slotStatus, type SlotStatus } from './status';

type KernelConfig = Readonly<NetprovConfig> & { backend: 'tap' | 'netns' };

function statusTable(rows: readonly SlotStatus[], backend: 'tap' | 'netns'): string {
  const head = ['SLOT', 'ADDRESS', 'DEVICE', ...(backend === 'netns' ? ['NETNS'] : []), 'LINK', 'STATE', 'PORT', 'PID'];
  const body = rows.map((r) => [r.id, r.ip, r.device ?? '-', ...(backend === 'netns' ? [r.netns ?? '-'] : []), r.link, r.state, String(r.port ?? '-'), String(r.pid ?? '-')]);
  return table([head, ...body]);
}

/**
 * The tap and netns backends: every check before any change (exit 2), Redis reached before any
 * change (exit 1), then the kernel, then the inventory (down: the inventory first, so that the
 * worker stops serving the slots before their addresses go).
 */
export async function runKernel(command: string, options: CliOptions, config: KernelConfig, io: CliIo): Promise<number> {
  const started = Date.now();
  const { backend, hostId: host } = config;
  const n = names(options.prefix ?? config.netprovPrefix);
  const readOnly = command === 'ls' || options.dryRun;
  const tool = checkNeeds({ backend, readOnly, ...(io.uid !== undefined ? { uid: io.uid } : {}) });
  const cidrFlag = options.cidr !== undefined ? '--cidr' : io.env['CORRAL_CIDR'] !== undefined ? 'CORRAL_CIDR' : '--cidr';
  const cidr = parseCidr(options.cidr ?? config.cidr, cidrFlag);
  const desired = command === 'up' ? desiredSlots(host, cidr, options.count ?? 0, n, cidrFlag) : [];
  const state = await readKernelState();

  if (command === 'ls') {
    let records: SlotRecord[] | null = null;
    if (!options.noRedis) {
      const registry = await connectRegistry(config);
      records = await registry.slots.list(host).finally(() => registry.close());
    }
    const rows = slotStatus(state, n, backend, host, cidr, records);
    io.out(options.json ? JSON.stringify(rows, null, 2) : rows.length > 0 ? statusTable(rows, backend) : `host ${host} has no ${backend} slots`);
    return 0;
  }

  const plan = command === 'up' ? (backend === 'tap' ? planTap : planNetns)(state, n, desired) : planDown(state, n, backend);
  if (options.dryRun) {
    io.out([`would reconcile host ${host} to ${desired.length} ${backend} slots${desired.length ? `: ${span(desired)}` : ''}`, ...describePlan(plan, n, tool)].join('\n'));
    return 0;
  }
  const registry = options.noRedis ? null : await connectRegistry(config);
  try {
    const progress = (text: string): void => io.err(`netprov: ${text}`);
    let published = '';
    if (command === 'down' && registry) {
      const { removed } = await registry.slots.publish(host, backend, []);
      published = removed === 0 ? '' : `; registry: removed ${removed}`;
    }
    if (hasChanges(plan) || plan.guard !== null) await applyPlan(plan, n, tool, progress);
    const elapsed = seconds(Date.now() - started);
    if (command === 'up' && registry) {
      const { added, removed, changed } = await registry.slots.publish(
        host,
        backend,
        desired.map(({ id, ip, index }) => (backend === 'netns' ? { id, ip, netns: join(NETNS_DIR, n.netns(index)) } : { id, ip })),
      );
      published = added + removed + changed === 0 ? '' : `; registry: added ${added}, removed ${removed}, changed ${changed}`;
    }
    const counts = command === 'up' ? `created ${plan.created.length}, repaired ${plan.repaired.length}, removed ${plan.removed.length}` : `removed ${plan.removed.length} slots`;
    const kernel = hasChanges(plan) ? `${counts} in ${elapsed}` : '';
    const what = kernel || published ? `${kernel || 'kernel: no changes'}${published}` : 'no changes';
    io.out(command === 'up' ? `host ${host}: ${desired.length} ${backend} slots, ${span(desired)}: ${what}` : `host ${host}: down (prefix ${n.prefix}): ${what}`);
    return 0;
  } finally {
    await registry?.close();
  }
}
