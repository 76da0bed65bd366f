import type { Backend, PoolSnapshot, SlotAddress, SlotRecord } from '@corral/contracts';
import { fromPairs, toSlots } from '../records';
import type { FacetDeps } from './deps';

export type SlotReadyOutcome = 'idle' | 'assigned' | 'already_idle' | 'gone' | 'claimed_by_other';
export type SetStateOutcome = 'changed' | 'no_slot' | 'held_by_other';

const READY = { IDLE: 'idle', ASSIGNED: 'assigned', ALREADY_IDLE: 'already_idle', NO_SLOT: 'gone', NOT_HOLDER: 'claimed_by_other' } as const;
const SET_STATE = { OK: 'changed', NO_SLOT: 'no_slot', NOT_HOLDER: 'held_by_other' } as const;

/**
 * How long past its end a lease counts as still live in the pool check: leases are written with
 * the clock of the router or worker that took them, and clocks a little apart must not raise
 * false alarms in the last moment of a lease.
 */
const CLOCK_SLACK_MS = 1000;

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
   * state; an idle slot listed exactly once in the idle list; a busy slot holding a lease that
   * has not run out (a claim past it is held by no live request: its router died or lost it; a
   * job past it has a worker that is gone or stuck); a running slot listed for the watchdog,
   * and no other; no list entry or lease without its slot. A non-empty `problems` means a slot
   * is lost, doubled or held by nobody.
   */
  async pool(): Promise<PoolSnapshot> {
    const k = this.d.keys;
    const { replies, now } = await this.d.connection.run(async (redis) => {
      const ids = await redis.smembers(k.slots);
      const tx = redis.multi();
      for (const id of ids) tx.hgetall(k.slot(id));
      for (const id of ids) tx.exists(k.job(id));
      tx.lrange(k.idle, 0, -1);
      tx.zrange(k.leases, 0, -1, 'WITHSCORES');
      return { replies: (await tx.exec()) ?? [], now: Date.now() };
    });
    const leaseScores = fromPairs(replies.pop()?.[1] as string[]);
    const idleList = replies.pop()?.[1] as string[];
    const jobListed = replies.splice(replies.length / 2).map(([, exists]) => exists === 1);
    const withJob = new Set<string>();
    replies.forEach(([, hash], i) => {
      const id = (hash as Record<string, string> | null)?.['id'];
      if (id && jobListed[i]) withJob.add(id);
    });
    const slots = toSlots(replies);
    const snapshot: PoolSnapshot = { total: slots.length, idle: 0, busy: 0, booting: 0, dead: 0, slots, consistent: true, problems: [] };
    const listed = new Map<string, number>();
    for (const id of idleList) listed.set(id, (listed.get(id) ?? 0) + 1);
    const known = new Set(slots.map((slot) => slot.id));
    for (const slot of slots) {
      snapshot[slot.state] += 1;
      const times = listed.get(slot.id) ?? 0;
      const leaseEnd = leaseScores[slot.id] === undefined ? undefined : Number(leaseScores[slot.id]);
      if (slot.state === 'idle' && times !== 1) snapshot.problems.push(`${slot.id} is idle but listed ${times} times`);
      if (slot.state !== 'idle' && times > 0) snapshot.problems.push(`${slot.id} is ${slot.state} but in the idle list`);
      if (slot.state === 'busy' && leaseEnd === undefined) snapshot.problems.push(`${slot.id} is busy without a lease`);
      if (slot.state !== 'busy' && leaseEnd !== undefined) snapshot.problems.push(`${slot.id} is ${slot.state} but holds a lease`);
      if (slot.state === 'busy' && leaseEnd !== undefined && now - leaseEnd > CLOCK_SLACK_MS) {
        const ago = `${Math.round(now - leaseEnd)} ms ago`;
        snapshot.problems.push(
          slot.phase === 'running'
            ? `${slot.id} is running a job whose lease ran out ${ago}: its worker is gone or stuck`
            : `${slot.id} is busy without a live request: its claim ran out ${ago} and the job never started`,
        );
      }
      const running = slot.state === 'busy' && slot.phase === 'running';
      if (running && !withJob.has(slot.id)) snapshot.problems.push(`${slot.id} is running a job the watchdog does not know of`);
      if (!running && withJob.has(slot.id)) snapshot.problems.push(`${slot.id} is ${slot.phase ?? slot.state} but a job is listed for it`);
    }
    for (const id of listed.keys()) if (!known.has(id)) snapshot.problems.push(`${id} is in the idle list but not a slot`);
    for (const id of Object.keys(leaseScores)) if (!known.has(id)) snapshot.problems.push(`${id} holds a lease but is not a slot`);
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
