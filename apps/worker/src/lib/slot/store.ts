import type { Registry } from '@corral/registry';
import type { SlotStore } from './ports';

/** The slot store of one slot, on the registry. */
export function registrySlotStore(registry: Registry, hostId: string, slotId: string, port: number): SlotStore {
  return {
    markBooting: (token) => registry.setSlotState(hostId, slotId, 'booting', token),
    markDead: (token) => registry.setSlotState(hostId, slotId, 'dead', token),
    markReady: (token, pid) => registry.slotReady(hostId, slotId, token, pid, port),
    startJob: (entry, leaseMs) => registry.startJob(hostId, entry, leaseMs),
    updateRunning: (entry) => registry.updateRunning(hostId, entry),
    restoreJob: (entry, leaseMs) => registry.restoreJob(hostId, entry, leaseMs),
    killReason: () => registry.killReason(slotId),
  };
}
