import { Connection, type RegistryOptions } from './connection';
import { BackgroundRecords } from './facets/background';
import { JobLedger } from './facets/jobs';
import type { JobQueues } from './job-queues';
import { KeyAdmission } from './facets/admission';
import { LeaseQueue } from './facets/queue';
import { Liveness } from './facets/liveness';
import { SlotInventory } from './facets/slots';
import { keySchema, type KeySchema } from './keys';
import { Scripts } from './script-wrappers';
import { defineScripts } from './scripts';

/** The connection and key schema behind each registry, for the test hooks in testing.ts only. */
const internals = new WeakMap<Registry, { connection: Connection; keys: KeySchema }>();

/** @internal */
export function registryInternals(registry: Registry): { connection: Connection; keys: KeySchema } {
  const found = internals.get(registry);
  if (!found) throw new Error('not a connected Registry');
  return found;
}

/**
 * The slot registry: every read and write of corral's state in Redis goes through here. It
 * owns the connection; the state is reached through its facets, each used by few services.
 */
export class Registry {
  /** The inventory and each slot's state (netprov publishes, workers serve, /v1/pool shows). */
  readonly slots: SlotInventory;
  /** Leases and the queue shared by every router. */
  readonly queue: LeaseQueue;
  /** Running jobs, kill reasons and kill counts (worker, watchdog). */
  readonly jobs: JobLedger;
  /** API keys' rate and concurrency limits, across routers. */
  readonly admission: KeyAdmission;
  /** Heartbeats, the epoch, silent hosts, and the events channel. */
  readonly liveness: Liveness;
  /** Executions kept in the background and batches: their records and the cancel channel (router). */
  readonly background: BackgroundRecords;

  private constructor(private readonly connection: Connection) {
    const keys = keySchema(connection.options.prefix);
    const deps = { connection, keys, scripts: new Scripts(defineScripts(connection), keys) };
    this.slots = new SlotInventory(deps);
    this.queue = new LeaseQueue(deps);
    this.jobs = new JobLedger(deps);
    this.admission = new KeyAdmission(deps);
    this.liveness = new Liveness(deps);
    this.background = new BackgroundRecords(deps);
    this.keys = keys;
    internals.set(this, { connection, keys });
  }

  private readonly keys: KeySchema;

  /**
   * The durable queues of background executions and webhook deliveries (BullMQ, on
   * connections of their own to the same Redis); `keepMs`: how long finished entries are kept.
   */
  openQueues(keepMs: number): JobQueues {
    // Loaded here, not at the top: only routers open the queues, and BullMQ costs every process
    // that loads it about 15 MiB of resident memory (the watchdog's, the worker's, netprov's).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { JobQueues: Queues } = require('./job-queues') as typeof import('./job-queues');
    return new Queues(this.connection.endpoint, this.keys, keepMs);
  }

  /** Connects and waits until Redis answers. @throws RegistryUnavailableError naming the (redacted) URL and the cause */
  static async connect(options: RegistryOptions): Promise<Registry> {
    return new Registry(await Connection.open(options));
  }

  /** Closes every connection (subscriptions included). */
  close(): Promise<void> {
    return this.connection.close();
  }
}
