import { CorralError, type Lease } from '@corral/contracts';

interface Waiter {
  resolve(lease: Lease): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface SlotQueueOptions {
  /** Claims an idle slot, or null when none is idle. */
  claim: () => Promise<Lease | null>;
  /** Gives back a claim nobody waits for any more. */
  release: (lease: Lease) => Promise<unknown>;
  /** Most requests that may wait at once; beyond it, 429. */
  maxQueue: number;
  /** A safety net if an idle event is missed (e.g. across a Redis reconnect). */
  pollMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Requests waiting for a slot, first come first served within this router. A waiter is served
 * when an idle event arrives (`notify`), or by a slow poll; it gives up at its deadline (503),
 * and the queue refuses new waiters beyond its length (429).
 */
export class SlotQueue {
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private pumpAgain = false;
  private poller: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: SlotQueueOptions) {}

  get length(): number {
    return this.waiters.length;
  }

  /**
   * A lease on an idle slot, waiting until `deadlineAt` (epoch ms) when none is idle.
   * @throws CorralError queue_full, no_capacity or shutting_down; the signal's reason when aborted
   */
  async acquire(deadlineAt: number, signal?: AbortSignal): Promise<Lease> {
    if (this.closed) throw new CorralError('shutting_down');
    if (this.waiters.length === 0) {
      const lease = await this.options.claim();
      if (lease) return lease;
    }
    if (this.waiters.length >= this.options.maxQueue) {
      throw new CorralError('queue_full', `${this.waiters.length} requests are already waiting for a slot; try again later.`);
    }
    const waitMs = deadlineAt - Date.now();
    if (waitMs <= 0) throw new CorralError('no_capacity');
    signal?.throwIfAborted();
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = (): void => {
        this.remove(waiter);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const waiter: Waiter = {
        resolve: (lease) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        timer: setTimeout(() => {
          this.remove(waiter);
          waiter.reject(new CorralError('no_capacity'));
        }, waitMs),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.startPolling();
      this.notify(); // a slot may have turned idle between the claim above and now
    });
  }

  /** A slot turned idle somewhere: serve the head of the queue. */
  notify(): void {
    if (this.waiters.length > 0) void this.pump();
  }

  /** Fails every waiter with shutting_down and accepts no more. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new CorralError('shutting_down'));
    }
    this.stopPolling();
  }

  private remove(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    if (this.waiters.length === 0) this.stopPolling();
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.waiters.length > 0) {
          const lease = await this.options.claim();
          if (!lease) break;
          const waiter = this.waiters.shift();
          if (!waiter) {
            // everyone gave up while the claim was on its way
            await this.options.release(lease);
            break;
          }
          clearTimeout(waiter.timer);
          waiter.resolve(lease);
        }
      } while (this.pumpAgain);
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.pumping = false;
      if (this.waiters.length === 0) this.stopPolling();
    }
  }

  private startPolling(): void {
    this.poller ??= setInterval(() => this.notify(), this.options.pollMs ?? 250);
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }
}
