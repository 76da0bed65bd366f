import type { Lease } from '@corral/contracts';
import type { SlotRequest } from '@corral/registry';
import { SlotQueue, type QueueStore } from './slot-queue';

const lease: Lease = { slotId: 'h:0', ip: '127.0.0.1', port: 7070, host: 'h', token: 't' };

/** An in-memory queue of one ticket: the registry's rules, slow enough for checks to overlap. */
function fakeStore(): QueueStore & { requests: SlotRequest[]; assign(): void } {
  const tickets = new Set<string>();
  let assigned: string | null = null;
  const later = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), 5));
  return {
    requests: [],
    assign() {
      assigned = [...tickets][0] ?? null;
      if (assigned) tickets.delete(assigned);
    },
    request(request) {
      this.requests.push(request);
      tickets.add(request.ticket);
      return later('queued' as const);
    },
    take(ticket) {
      if (assigned === ticket) {
        assigned = null;
        return later(lease);
      }
      return later(tickets.has(ticket) ? ('queued' as const) : ('lost' as const));
    },
    cancel(ticket) {
      tickets.delete(ticket);
      return later(null);
    },
    release: () => later(true),
  };
}

/** A queue with one request waiting (no periodic check during the test), and its ticket. */
async function oneWaiter(signal?: AbortSignal) {
  const store = fakeStore();
  const queue = new SlotQueue({ store, routerId: 'r', claimTtlMs: 1000, maxQueue: 10, checkMs: 60_000 });
  const waiting = queue.acquire('req', Date.now() + 10_000, signal);
  await new Promise((r) => setTimeout(r, 20));
  return { store, queue, waiting, ticket: store.requests[0]!.ticket };
}

describe('SlotQueue', () => {
  it('checks a ticket once at a time: a notice and the periodic check together do not queue it again', async () => {
    const { store, queue, waiting, ticket } = await oneWaiter();
    store.assign();
    queue.onAssigned(ticket);
    queue.onAssigned(ticket); // the second check would find the assignment taken
    expect(await waiting).toEqual(lease);
    await new Promise((r) => setTimeout(r, 50));
    expect(store.requests).toHaveLength(1); // never queued again
    expect(queue.length).toBe(0);
  });

  it('never queues again a ticket it is withdrawing: a check that finds it gone leaves no orphan behind', async () => {
    const gone = new AbortController();
    const { store, queue, waiting, ticket } = await oneWaiter(gone.signal);
    const outcome = waiting.catch((err: unknown) => err);
    gone.abort(new Error('client went away')); // the ticket is cancelled…
    queue.onAssigned(ticket); // …and a check in flight finds it gone, as after Redis lost its data
    expect(await outcome).toEqual(new Error('client went away'));
    await new Promise((r) => setTimeout(r, 50));
    expect(store.requests).toHaveLength(1);
    expect(queue.length).toBe(0);
  });

  it('checks again after a check in flight when a notice came meanwhile', async () => {
    const { store, queue, waiting, ticket } = await oneWaiter();
    queue.onAssigned(ticket); // finds nothing yet…
    store.assign(); // …the slot is assigned while that check is in flight…
    queue.onAssigned(ticket); // …and this notice must not be lost
    expect(await waiting).toEqual(lease);
  });
});

describe('SlotQueue, background work beyond the reserve', () => {
  /** A store that answers 'reserved' `times` times, then a lease. */
  function reservedStore(times: number): QueueStore & { requests: SlotRequest[] } {
    let left = times;
    return {
      requests: [],
      request(request) {
        this.requests.push(request);
        return Promise.resolve(left-- > 0 ? ('reserved' as const) : lease);
      },
      take: () => Promise.resolve('lost' as const),
      cancel: () => Promise.resolve(null),
      release: () => Promise.resolve(true),
    };
  }

  it('asks again, never queuing, until a slot beyond the reserve is idle', async () => {
    const store = reservedStore(3);
    const queue = new SlotQueue({ store, routerId: 'r', claimTtlMs: 1000, maxQueue: 10, checkMs: 60_000 });
    expect(await queue.acquire('req', Date.now() + 10_000, undefined, 1)).toEqual(lease);
    expect(store.requests).toHaveLength(4);
    expect(store.requests.every((r) => r.reserve === 1)).toBe(true);
    expect(new Set(store.requests.map((r) => r.ticket)).size).toBe(4);
  });

  it('gives up at its deadline with no_capacity, and at once when aborted or closed', async () => {
    const queue = new SlotQueue({ store: reservedStore(Infinity), routerId: 'r', claimTtlMs: 1000, maxQueue: 10, checkMs: 60_000 });
    await expect(queue.acquire('req', Date.now() + 60, undefined, 1)).rejects.toMatchObject({ code: 'no_capacity' });
    const stop = new AbortController();
    const waiting = queue.acquire('req', Date.now() + 10_000, stop.signal, 1);
    setTimeout(() => stop.abort(new Error('client went away')), 30);
    await expect(waiting).rejects.toThrow('client went away');
    const closing = queue.acquire('req', Date.now() + 10_000, undefined, 1);
    await queue.close();
    await expect(closing).rejects.toMatchObject({ code: 'shutting_down' });
  });
});
