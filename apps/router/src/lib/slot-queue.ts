import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError, type Lease } from '@corral/contracts';
import type { SlotRequest } from '@corral/registry';

/** How often background work asks again for a slot beyond the reserve (see acquireBeyondReserve). */
const RESERVE_POLL_MS = 15;

/** What the queue needs of the registry (one Redis script each). */
export interface QueueStore {
  request(request: SlotRequest): Promise<Lease | 'queued' | 'reserved'>;
  take(ticket: string): Promise<Lease | 'queued' | 'lost'>;
  cancel(ticket: string): Promise<Lease | null>;
  release(lease: Lease): Promise<boolean>;
}

export interface SlotQueueOptions {
  store: QueueStore;
  /** This router's id: assignments for its tickets arrive on its own channel. */
  routerId: string;
  claimTtlMs: number;
  /** Most requests this router lets wait at once; beyond it, 429. */
  maxQueue: number;
  /** A safety net: how often a waiting ticket is checked on, in case its notification was lost. */
  checkMs?: number;
  onError?: (err: unknown) => void;
}

interface Waiter {
  ticket: string;
  requestId: string;
  deadlineAt: number;
  resolve(lease: Lease): void;
  reject(err: Error): void;
  settled: boolean;
  /** Its ticket is being withdrawn: a check that finds the ticket gone must not queue it again. */
  withdrawn: boolean;
  timers: NodeJS.Timeout[];
  cleanup: () => void;
  /** A check on the ticket in flight, and whether another was asked for meanwhile. */
  collecting: boolean;
  collectAgain: boolean;
}

/**
 * Requests waiting for a slot. The queue itself lives in Redis, shared by every router, first
 * come first served: a freed slot goes to the oldest ticket and its router is told on its own
 * channel (`onAssigned`), so nothing polls. A waiter gives up at its deadline (503), and this
 * router refuses new waiters beyond its queue length (429).
 */
export class SlotQueue {
  private readonly waiting = new Map<string, Waiter>();
  private closed = false;

  constructor(private readonly options: SlotQueueOptions) {}

  get length(): number {
    return this.waiting.size;
  }

  /**
   * A lease on a slot, waiting until `deadlineAt` (epoch ms) when none is free.
   * @throws CorralError queue_full, no_capacity or shutting_down; the signal's reason when aborted
   */
  async acquire(requestId: string, deadlineAt: number, signal?: AbortSignal, reserve = 0): Promise<Lease> {
    if (this.closed) throw new CorralError('shutting_down');
    if (reserve > 0) return this.acquireBeyondReserve(requestId, deadlineAt, reserve, signal);
    if (this.waiting.size >= this.options.maxQueue) {
      throw new CorralError('queue_full', `${this.waiting.size} requests are already waiting for a slot on this router; try again later.`);
    }
    if (deadlineAt <= Date.now()) throw new CorralError('no_capacity');
    const ticket = randomUUID();
    const first = await this.request(ticket, requestId, deadlineAt);
    if (first !== 'queued') return first;

    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        ticket,
        requestId,
        deadlineAt,
        resolve,
        reject,
        settled: false,
        withdrawn: false,
        timers: [],
        cleanup: () => undefined,
        collecting: false,
        collectAgain: false,
      };
      const onAbort = (): void => void this.giveUp(waiter, signal?.reason instanceof Error ? signal.reason : new Error('aborted'), true);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.cleanup = () => {
        signal?.removeEventListener('abort', onAbort);
        for (const timer of waiter.timers) clearTimeout(timer);
        this.waiting.delete(waiter.ticket);
      };
      waiter.timers.push(setTimeout(() => void this.giveUp(waiter, new CorralError('no_capacity'), false), deadlineAt - Date.now()));
      waiter.timers.push(setInterval(() => void this.collect(waiter), this.options.checkMs ?? 1000));
      this.waiting.set(ticket, waiter);
      if (signal?.aborted) onAbort();
    });
  }

  /** A slot was assigned to one of this router's tickets. */
  onAssigned(ticket: string): void {
    const waiter = this.waiting.get(ticket);
    if (waiter) void this.collect(waiter);
  }

  /** Fails every waiter with shutting_down (giving back what was assigned to them) and accepts no more. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.waiting.values()].map((w) => this.giveUp(w, new CorralError('shutting_down'), true)));
  }

  private async request(ticket: string, requestId: string, deadline: number): Promise<Lease | 'queued'> {
    const got = await this.options.store.request({ ticket, routerId: this.options.routerId, deadline, claimTtlMs: this.options.claimTtlMs, requestId });
    if (got === 'reserved') throw new Error('the registry answered "reserved" to a request without a reserve');
    return got;
  }

  /**
   * Background work (tests, async jobs) takes a slot only while more than `reserve` are idle and
   * no client waits: it never joins the shared queue, so a client's request always goes first
   * and finds a warm slot. It asks again every RESERVE_POLL_MS or so (jittered, so that routers
   * do not ask in step) until its deadline. A queue of its own would wake it on the next free
   * slot instead; asking costs one short script call and only while the pool is busy.
   */
  private async acquireBeyondReserve(requestId: string, deadlineAt: number, reserve: number, signal?: AbortSignal): Promise<Lease> {
    for (;;) {
      if (this.closed) throw new CorralError('shutting_down');
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      if (deadlineAt <= Date.now()) throw new CorralError('no_capacity');
      const ticket = randomUUID();
      const got = await this.options.store.request({ ticket, routerId: this.options.routerId, deadline: deadlineAt, claimTtlMs: this.options.claimTtlMs, requestId, reserve });
      if (got !== 'reserved' && got !== 'queued') return got;
      try {
        await sleep(Math.min(RESERVE_POLL_MS * (0.5 + Math.random()), Math.max(1, deadlineAt - Date.now())), undefined, signal ? { signal } : {});
      } catch {
        throw signal?.reason instanceof Error ? signal.reason : new Error('aborted');
      }
    }
  }

  private settle(waiter: Waiter, outcome: Lease | Error): void {
    if (waiter.settled) return;
    waiter.settled = true;
    waiter.cleanup();
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  /**
   * Takes the ticket's assignment if there is one; queues it again if Redis lost it. One check
   * per ticket at a time (a notice and the periodic check can coincide): a second one would find
   * the assignment taken, think the ticket lost and queue it again, and the slot assigned to that
   * orphan ticket later would stay claimed until its lease ran out.
   */
  private async collect(waiter: Waiter): Promise<void> {
    if (waiter.settled) return;
    if (waiter.collecting) {
      waiter.collectAgain = true;
      return;
    }
    waiter.collecting = true;
    try {
      do {
        waiter.collectAgain = false;
        await this.collectOnce(waiter);
      } while (waiter.collectAgain && !waiter.settled);
    } finally {
      waiter.collecting = false;
    }
  }

  private async collectOnce(waiter: Waiter): Promise<void> {
    if (waiter.settled) return;
    try {
      const outcome = await this.options.store.take(waiter.ticket);
      if (outcome === 'queued') return;
      if (outcome === 'lost') {
        // Withdrawn meanwhile (the ticket is gone because it was cancelled): nothing to collect.
        // Queued again, it would be an orphan: a slot assigned to it would stay claimed for nobody.
        if (waiter.withdrawn || waiter.settled) return;
        // Redis restarted without its data: join the queue again (at its end).
        const again = await this.request(waiter.ticket, waiter.requestId, waiter.deadlineAt);
        if (again !== 'queued') await this.deliver(waiter, again);
        // Withdrawn while it queued again: the cancel may have come first; withdraw it once more.
        else if (waiter.withdrawn || waiter.settled) await this.withdraw(waiter.ticket);
        return;
      }
      await this.deliver(waiter, outcome);
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  /** Cancels a ticket nobody waits for, giving back a slot assigned to it meanwhile. */
  private async withdraw(ticket: string): Promise<void> {
    const lease = await this.options.store.cancel(ticket);
    if (lease) await this.options.store.release(lease);
  }

  /** Hands a lease to its waiter, or back to the registry if the waiter is gone. */
  private async deliver(waiter: Waiter, lease: Lease): Promise<void> {
    if (waiter.settled) await this.options.store.release(lease);
    else this.settle(waiter, lease);
  }

  /**
   * The deadline passed, the client went away, or the router closes: withdraw the ticket. A slot
   * assigned meanwhile is used when the request still wants one (deadline), else given back.
   */
  private async giveUp(waiter: Waiter, reason: Error, wantsNoSlot: boolean): Promise<void> {
    if (waiter.settled || waiter.withdrawn) return;
    waiter.withdrawn = true;
    let lease: Lease | null = null;
    try {
      lease = await this.options.store.cancel(waiter.ticket);
    } catch (err) {
      this.options.onError?.(err);
    }
    if (lease && (wantsNoSlot || waiter.settled)) {
      await this.options.store.release(lease).catch((err: unknown) => this.options.onError?.(err));
      lease = null;
    }
    this.settle(waiter, lease ?? reason);
  }
}
