import type { Registry } from '@corral/registry';
import type { SlotStore } from './ports';

/** The slot store of one slot, on the registry. */
export function registrySlotStore(registry: Registry, hostId: string, slotId: string, port: number): SlotStore {
  return {
    markBooting: (token) => registry.slots.setState(hostId, slotId, 'booting', token),
    markDead: (token) => registry.slots.setState(hostId, slotId, 'dead', token),
    markReady: (token, pid) => registry.slots.ready(hostId, slotId, token, pid, port),
    startJob: (entry, leaseMs) => registry.jobs.start(hostId, entry, leaseMs),
    updateRunning: (entry) => registry.jobs.update(hostId, entry),
    restoreJob: (entry, leaseMs) => registry.jobs.restore(hostId, entry, leaseMs),
    killReason: () => registry.jobs.killReason(slotId),
  };
}
