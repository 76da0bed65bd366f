import type { Lease } from '@corral/contracts';
import { newToken } from '../records';
import type { FacetDeps } from './deps';

/** Most expired leases one reclaim looks at: one script call stays short however many there are. */
const RECLAIM_BATCH = 1000;

/** A request's place in the queue shared by every router. */
export interface SlotRequest {
  /** Unique per request; names its place in the queue. */
  ticket: string;
  /** The router that waits; it hears "assigned <ticket>" on its channel. */
  routerId: string;
  /** Epoch ms after which the request no longer wants a slot. */
  deadline: number;
  /** How long a claim stays reserved until the worker starts the job. */
  claimTtlMs: number;
  requestId: string;
  /**
   * Background work (tests, async jobs): claim a slot only while more than `reserve` are idle
   * and no request waits, else answer 'reserved' without queuing (the caller asks again). So
   * a client's request always finds a warm slot, however much background work there is.
   */
  reserve?: number;
}

/**
 * Leases and the queue shared by every router (router): a slot is claimed under a one-time
 * token at once, or a ticket waits first come first served and its router hears when a slot
 * was assigned to it.
 */
export class LeaseQueue {
  constructor(private readonly d: FacetDeps) {}

  /** A lease at once when a slot is idle and nobody waits; else 'queued', and the router hears about its ticket later. */
  async request(request: SlotRequest): Promise<Lease | 'queued' | 'reserved'> {
    const reply = await this.d.scripts.requestSlot({ ...request, token: newToken() });
    if (reply === 'RESERVED') return 'reserved';
    return reply === 'QUEUED' ? 'queued' : reply;
  }

  /** The slot assigned to a queued ticket, 'queued' while it waits, 'lost' when Redis forgot it. */
  async take(ticket: string): Promise<Lease | 'queued' | 'lost'> {
    const reply = await this.d.scripts.takeAssignment(ticket);
    if (reply === 'QUEUED') return 'queued';
    return reply === 'TICKET_LOST' ? 'lost' : reply;
  }

  /** Withdraws a ticket; returns the slot if one was assigned meanwhile (use it or `release` it). */
  async cancel(ticket: string): Promise<Lease | null> {
    const reply = await this.d.scripts.cancelTicket(ticket);
    return reply === 'CANCELLED' ? null : reply;
  }

  /** Claims an idle slot without waiting, or returns null (tools, tests, benchmarks). */
  async claim(ttlMs: number, requestId: string): Promise<Lease | null> {
    const ticket = `now-${newToken()}`;
    const lease = await this.request({ ticket, routerId: 'none', deadline: Date.now() + 1, claimTtlMs: ttlMs, requestId });
    if (lease === 'reserved') return null; // never without a reserve
    return lease === 'queued' ? this.cancel(ticket) : lease;
  }

  /**
   * Gives back a claim whose job was not started: true proves that it never ran (the token can
   * no longer start it); false when the token is not the slot's claim, or its job started.
   */
  async release(lease: Lease): Promise<boolean> {
    const reply = await this.d.scripts.releaseClaim(lease);
    return reply === 'IDLE' || reply === 'ASSIGNED';
  }

  /**
   * Gives back every claim whose lease ran out before its job started (a router died holding
   * it): the sandbox was never touched, so the slot goes straight back into service. Every
   * router may call it on a timer; each claim is given back once. Returns how many were.
   */
  reclaimExpiredClaims(): Promise<number> {
    return this.d.scripts.reclaimClaims(RECLAIM_BATCH);
  }

  /** Takes a claimed slot whose worker cannot be reached out of service (router); false when the lease no longer holds it. */
  async markDead(lease: Lease): Promise<boolean> {
    return (await this.d.scripts.setSlotState(lease.host, lease.slotId, 'dead', lease.token)) === 'OK';
  }

  /** Calls `onAssigned(ticket)` when a slot is assigned to one of this router's tickets, until the returned function is called. */
  subscribe(routerId: string, onAssigned: (ticket: string) => void): Promise<() => Promise<void>> {
    return this.d.connection.listen(this.d.keys.routerChannel(routerId), (message) => {
      const [type, ticket = ''] = message.split(' ', 2);
      if (type === 'assigned') onAssigned(ticket);
    });
  }
}
