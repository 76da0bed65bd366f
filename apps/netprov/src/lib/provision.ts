import { slotId } from '@corral/contracts';
import { slotAddresses, type Cidr } from './cidr';
import { forEachLimited, installSlotPolicy, setHostGuard, detectFirewall, type FirewallTool } from './firewall';
import { PROGRESS_MARKER, runIpBatch } from './ip';
import { PlanError } from './loopback';
import type { Names } from './names';
import { PROGRESS_EVERY, type SlotPlan, type SlotSpec } from './plan';
import { readyLines } from './plan-netns';

/** Slot namespaces whose policy loads at once (each is one short nft or iptables process). */
const POLICY_CONCURRENCY = 16;

/** The slots `up --count N` wants: index i gets the i-th usable address of the range. @throws PlanError */
export function desiredSlots(host: string, cidr: Cidr, count: number, n: Names, cidrFlag: string): SlotSpec[] {
  if (count - 1 > n.maxIndex) throw new PlanError(`--count ${count} is too many for --prefix ${n.prefix}: interface names would exceed 15 characters.`);
  return slotAddresses(cidr, count, cidrFlag).map((ip, index) => ({ index, id: slotId(host, index), ip }));
}

export function hasChanges(plan: SlotPlan): boolean {
  return plan.created.length + plan.repaired.length + plan.removed.length > 0 || plan.batch.length > 0;
}

/** The plan as text: a summary, then every command in order. */
export function describePlan(plan: SlotPlan, n: Names, tool: FirewallTool | null): string[] {
  const lines = [`${plan.backend}: create ${plan.created.length}, repair ${plan.repaired.length}, remove ${plan.removed.length} slots`];
  if (plan.guard === true) lines.push(`${tool ?? 'nft'}: install the host guard (table/chains ${n.guardTable})`);
  lines.push(...plan.batch.filter((l) => l !== PROGRESS_MARKER).map((l) => `ip ${l}`));
  if (plan.needPolicy.length > 0) {
    lines.push(`${tool ?? 'nft'}: load the default-deny policy inside ${plan.needPolicy.length} namespaces (${n.netns(plan.needPolicy[0]?.index ?? 0)} …)`);
    lines.push(...readyLines(n, plan.needPolicy).map((l) => `ip ${l}`));
  }
  if (plan.guard === false) lines.push('remove the host guard, if there is one');
  if (!hasChanges(plan) && plan.guard !== false) lines.push('no changes');
  return lines;
}

/**
 * Carries out a plan: the host guard first (netns), one `ip -batch` for every host-side change,
 * then the policy inside each new namespace, then one more batch marking those slots ready.
 * A crash at any point leaves devices without their final mark, which the next `up` repairs.
 * @throws IpError or the policy tool's error
 */
export async function applyPlan(plan: SlotPlan, n: Names, tool: FirewallTool | null, progress: (text: string) => void): Promise<void> {
  const touched = plan.created.length + plan.repaired.length;
  if (touched >= PROGRESS_EVERY || plan.removed.length >= PROGRESS_EVERY) {
    progress(`${plan.backend}: creating ${plan.created.length}, repairing ${plan.repaired.length}, removing ${plan.removed.length} slots`);
  }
  if (plan.guard === true && tool) await setHostGuard(tool, n, true);
  await runIpBatch(plan.batch, { onMarker: (k) => progress(`${plan.backend}: ${Math.min(k * PROGRESS_EVERY, touched)}/${touched} slots set up on the host`) });
  if (plan.needPolicy.length > 0 && tool) {
    const done: SlotSpec[] = [];
    try {
      await forEachLimited(
        plan.needPolicy,
        POLICY_CONCURRENCY,
        async (slot) => {
          await installSlotPolicy(tool, n.netns(slot.index));
          done.push(slot);
        },
        (count) => count % PROGRESS_EVERY === 0 && progress(`${plan.backend}: policy loaded in ${count}/${plan.needPolicy.length} namespaces`),
      );
    } finally {
      await runIpBatch(readyLines(n, done));
    }
  }
  if (plan.guard === false) {
    const present = tool ?? detectFirewall();
    if (present) await setHostGuard(present, n, false);
  }
}
