import type { Backend, PoolSnapshot, SlotAddress, SlotRecord } from '@corral/contracts';
import { toSlots } from '../records';
import type { FacetDeps } from './deps';

export type SlotReadyOutcome = 'idle' | 'assigned' | 'already_idle' | 'gone' | 'claimed_by_other';
export type SetStateOutcome = 'changed' | 'no_slot' | 'held_by_other';

const READY = { IDLE: 'idle', ASSIGNED: 'assigned', ALREADY_IDLE: 'already_idle', NO_SLOT: 'gone', NOT_HOLDER: 'claimed_by_other' } as const;
const SET_STATE = { OK: 'changed', NO_SLOT: 'no_slot', NOT_HOLDER: 'held_by_other' } as const;

/** The slot inventory and each slot's state: what netprov publishes, what workers serve, what /v1/pool shows. */
export class SlotInventory {
  constructor(private readonly d: FacetDeps) {}

  /** Makes the inventory of `host` exactly `slots` (netprov). */
  publish(host: string, backend: Backend, slots: readonly SlotAddress[]): Promise<{ added: number; removed: number; changed: number }> {
    return this.d.scripts.publishInventory(host, backend, slots);
  }

  /** Every slot, or one host's, ordered by host and index. */
  list(host?: string): Promise<SlotRecord[]> {
    const k = this.d.keys;
    return this.d.connection.run(async (redis) => {
      const ids = await redis.smembers(host ? k.hostSlots(host) : k.slots);
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(k.slot(id));
      return toSlots((await pipeline.exec()) ?? []);
    });
  }

  /**
   * Every slot with its state, read in one transaction, and checked: each slot in exactly one
   * state; an idle slot listed exactly once in the idle list; a busy slot holding a lease; no
   * list entry or lease without its slot. A non-empty `problems` means a slot is lost or doubled.
   */
  async pool(): Promise<PoolSnapshot> {
    const k = this.d.keys;
    const replies = await this.d.connection.run(async (redis) => {
      const ids = await redis.smembers(k.slots);
      const tx = redis.multi();
      for (const id of ids) tx.hgetall(k.slot(id));
      tx.lrange(k.idle, 0, -1);
      tx.zrange(k.leases, 0, -1);
      return (await tx.exec()) ?? [];
    });
    const leases = replies.pop()?.[1] as string[];
    const idleList = replies.pop()?.[1] as string[];
    const slots = toSlots(replies);
    const snapshot: PoolSnapshot = { total: slots.length, idle: 0, busy: 0, booting: 0, dead: 0, slots, consistent: true, problems: [] };
    const listed = new Map<string, number>();
    for (const id of idleList) listed.set(id, (listed.get(id) ?? 0) + 1);
    const leased = new Set(leases);
    const known = new Set(slots.map((slot) => slot.id));
    for (const slot of slots) {
      snapshot[slot.state] += 1;
      const times = listed.get(slot.id) ?? 0;
      if (slot.state === 'idle' && times !== 1) snapshot.problems.push(`${slot.id} is idle but listed ${times} times`);
      if (slot.state !== 'idle' && times > 0) snapshot.problems.push(`${slot.id} is ${slot.state} but in the idle list`);
      if (slot.state === 'busy' && !leased.has(slot.id)) snapshot.problems.push(`${slot.id} is busy without a lease`);
      if (slot.state !== 'busy' && leased.has(slot.id)) snapshot.problems.push(`${slot.id} is ${slot.state} but holds a lease`);
    }
    for (const id of listed.keys()) if (!known.has(id)) snapshot.problems.push(`${id} is in the idle list but not a slot`);
    for (const id of leased) if (!known.has(id)) snapshot.problems.push(`${id} holds a lease but is not a slot`);
    snapshot.consistent = snapshot.problems.length === 0;
    return snapshot;
  }

  /** Moves a slot to booting or dead (worker); never takes a slot from a lease the caller does not hold. */
  async setState(host: string, slotId: string, state: 'booting' | 'dead', token = ''): Promise<SetStateOutcome> {
    return SET_STATE[await this.d.scripts.setSlotState(host, slotId, state, token)];
  }

  /** A fresh sandbox is ready on the slot: it goes to the oldest waiting request, or joins the idle list (worker). */
  async ready(host: string, slotId: string, token: string, pid: number, port: number): Promise<SlotReadyOutcome> {
    return READY[await this.d.scripts.releaseSlot(host, slotId, token, pid, port)];
  }
}
