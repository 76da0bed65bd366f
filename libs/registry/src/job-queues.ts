import { Queue, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import type { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import type { RedisEndpoint } from '@corral/contracts';
import { createClient } from './client';
import { toRegistryError } from './errors';
import type { KeySchema } from './keys';

/** What a background execution's queue entry holds: which execution, and whose. */
export interface ExecutionEntry {
  id: string;
  /** The validated submission, as JSON (a Submission of libs/contracts). */
  submission: string;
  keyName: string | null;
}

/** What a webhook delivery's queue entry holds. */
export interface DeliveryEntry {
  executionId: string;
  deliveryId: string;
  url: string;
  keyName: string | null;
}

export interface QueueRunnerOptions {
  /** Entries one router runs at once. */
  concurrency: number;
  /** How long a router's hold on an entry lasts without renewal (it renews at half): a dead router's entries go to another after about this. */
  lockMs: number;
  /** How many times an entry may be taken up again after its router died, before it fails. */
  maxStalls: number;
}

export interface QueueRunner {
  /** Aborts the signal given to the processor of entry `id`, when this router runs it. */
  cancel(id: string): boolean;
  /** Takes no more entries and waits for those it runs; `force`: leaves them at once (another router takes them up once their lock runs out). */
  close(force?: boolean): Promise<void>;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
}

/** An entry failed for good (retries used up, or taken up too often after routers died). */
export type FailedListener<T> = (entry: T, reason: string) => void;

const EXECUTIONS = 'executions';
const DELIVERIES = 'webhooks';

/**
 * The durable queues of background work, on BullMQ: executions answered 202, and webhook
 * deliveries. BullMQ gives what a hand-rolled queue would have to earn: entries that survive
 * their router (a lock renewed while it runs; a stalled entry goes back to wait), retries with
 * exponential backoff and jitter, and bounded retention. Its keys live under the registry's
 * hash tag, so they share a Cluster slot with everything else.
 */
export class JobQueues {
  private readonly executions: Queue<ExecutionEntry>;
  private readonly deliveries: Queue<DeliveryEntry>;
  private readonly runners: Worker[] = [];
  private readonly clients: (Redis | Cluster)[] = [];

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly keys: KeySchema,
    /** How long BullMQ keeps a finished entry (the record of the execution is kept apart). */
    private readonly keepMs: number,
  ) {
    const connection = this.client();
    const options = { connection, prefix: keys.queuePrefix };
    this.executions = new Queue<ExecutionEntry>(EXECUTIONS, options);
    this.deliveries = new Queue<DeliveryEntry>(DELIVERIES, options);
  }

  private client(): Redis | Cluster {
    const client = createClient(this.endpoint, false, true);
    this.clients.push(client);
    return client;
  }

  private retention(): { removeOnComplete: { age: number }; removeOnFail: { age: number } } {
    const age = Math.max(1, Math.ceil(this.keepMs / 1000));
    return { removeOnComplete: { age }, removeOnFail: { age } };
  }

  /** Queues executions (a batch's members together); an id already queued is not queued twice. @throws RegistryUnavailableError */
  async addExecutions(entries: readonly ExecutionEntry[]): Promise<void> {
    try {
      await this.executions.addBulk(entries.map((data) => ({ name: 'run', data, opts: { jobId: data.id, attempts: 1, ...this.retention() } })));
    } catch (err) {
      throw toRegistryError(err);
    }
  }

  /** Takes a queued execution out of the queue (it was cancelled); false when it is running or gone. */
  async removeQueued(id: string): Promise<boolean> {
    try {
      return (await this.executions.remove(id)) === 1;
    } catch {
      return false;
    }
  }

  /** Queues a webhook delivery with its retries; one per delivery id. @throws RegistryUnavailableError */
  async addDelivery(entry: DeliveryEntry, retry: { attempts: number; backoffMs: number }): Promise<void> {
    try {
      await this.deliveries.add('deliver', entry, {
        jobId: entry.deliveryId,
        attempts: retry.attempts,
        backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
        ...this.retention(),
      });
    } catch (err) {
      throw toRegistryError(err);
    }
  }

  /**
   * Runs queued executions on this router: `process` gets the entry and a signal aborted by
   * `cancel`; it answers `give_back` when this router cannot run it after all (it is shutting
   * down before the job was handed over): the entry goes back to wait, for any router.
   */
  runExecutions(process: (entry: ExecutionEntry, signal: AbortSignal) => Promise<'done' | 'give_back'>, options: QueueRunnerOptions, onFailed: FailedListener<ExecutionEntry>): QueueRunner {
    return this.run(
      EXECUTIONS,
      async (job: BullJob<ExecutionEntry>, signal, token) => {
        if ((await process(job.data, signal)) === 'give_back') {
          await job.moveToWait(token);
          throw new WaitingError();
        }
      },
      options,
      onFailed,
    );
  }

  /** Runs webhook deliveries on this router: `deliver` throws to have the attempt retried; it gets the attempt's number (1, 2…) and whether it is the last. */
  runDeliveries(deliver: (entry: DeliveryEntry, attempt: number, last: boolean) => Promise<void>, options: QueueRunnerOptions, onFailed: FailedListener<DeliveryEntry>): QueueRunner {
    return this.run(
      DELIVERIES,
      async (job: BullJob<DeliveryEntry>) => {
        const attempt = job.attemptsMade + 1;
        await deliver(job.data, attempt, attempt >= (job.opts.attempts ?? 1));
      },
      options,
      onFailed,
    );
  }

  private run<T>(name: string, process: (job: BullJob<T>, signal: AbortSignal, token: string | undefined) => Promise<void>, options: QueueRunnerOptions, onFailed: FailedListener<T>): QueueRunner {
    const worker = new Worker<T>(
      name,
      async (job, token, signal) => process(job, signal ?? new AbortController().signal, token),
      {
        connection: this.client(),
        prefix: this.keys.queuePrefix,
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: Math.max(1000, Math.floor(options.lockMs / 2)),
        maxStalledCount: options.maxStalls,
      },
    );
    worker.on('failed', (job, err) => {
      // Failed for good only: an attempt that will be retried is not the end.
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) onFailed(job.data, err.message);
    });
    worker.on('error', () => undefined); // connection errors: BullMQ reconnects; the registry's own connection logs them
    this.runners.push(worker);
    return {
      cancel: (id) => worker.cancelJob(id),
      close: async (force = false) => {
        await worker.close(force);
      },
    };
  }

  /** Entries by state, for /metrics. */
  async counts(): Promise<{ executions: QueueCounts; deliveries: QueueCounts }> {
    const read = async (queue: Queue): Promise<QueueCounts> => {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return { waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0), active: c['active'] ?? 0, delayed: c['delayed'] ?? 0 };
    };
    try {
      return { executions: await read(this.executions), deliveries: await read(this.deliveries) };
    } catch (err) {
      throw toRegistryError(err);
    }
  }

  /** Stops the runners (at once: what they run is taken up by another router), then the queues and their connections. */
  async close(): Promise<void> {
    await Promise.all(this.runners.map((w) => w.close(true)));
    await Promise.all([this.executions.close(), this.deliveries.close()]);
    for (const client of this.clients) client.disconnect();
  }
}
