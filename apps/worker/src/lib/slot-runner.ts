import type { SlotRecord } from '@corral/contracts';
import type { WorkerConfig } from '@corral/config';
import type { Registry } from '@corral/registry';
import type { Logger } from '@corral/service';
import { SlotLifecycle } from './slot/lifecycle';
import type { SlotSandbox } from './slot/ports';
import { SlotServer } from './slot/server';
import { registrySlotStore } from './slot/store';

export interface SlotRunnerDeps {
  registry: Registry;
  config: Readonly<WorkerConfig>;
  log: Logger;
  /** Starts a sandbox for the slot with this index and heap limit (`generation` counts the slot's sandboxes), in the slot's network namespace if any. */
  startSandbox: (slotIndex: number, heapMb: number, generation: number, netns?: string) => SlotSandbox;
  /** Limits how many sandboxes boot at once. */
  bootGate: <T>(task: () => Promise<T>) => Promise<T>;
}

/**
 * One slot on this host: its HTTP server on the slot's own address and its lifecycle (one warm
 * sandbox, at most one job at a time; see slot/lifecycle.ts), on the registry.
 */
export class SlotRunner {
  readonly lifecycle: SlotLifecycle;
  private readonly server: SlotServer;

  constructor(
    readonly slot: SlotRecord,
    private readonly deps: SlotRunnerDeps,
  ) {
    const log = deps.log.child({ slot: slot.id });
    // The slot's index on this host (`<host>:<index>`) picks the sandbox uid.
    const index = Number(slot.id.slice(slot.id.lastIndexOf(':') + 1)) || 0;
    this.lifecycle = new SlotLifecycle({
      slotId: slot.id,
      store: registrySlotStore(deps.registry, deps.config.hostId, slot.id, deps.config.port),
      startSandbox: (heapMb, generation) => deps.startSandbox(index, heapMb, generation, slot.netns),
      bootGate: deps.bootGate,
      defaultMemoryMb: deps.config.limits.defaultMemoryMb,
      maxOutputBytes: deps.config.maxOutputBytes,
      maxCollectBytes: deps.config.maxCollectBytes,
      log,
    });
    this.server = new SlotServer(this.lifecycle, deps.config.limits, log);
  }

  /** Binds the worker port on the slot's address. @throws on EADDRNOTAVAIL and the like */
  listen(): Promise<void> {
    return this.server.listen(this.deps.config.port, this.slot.ip);
  }

  /** Boots the slot's first sandbox and makes the slot idle once it is ready. */
  replenish(): Promise<void> {
    return this.lifecycle.start();
  }

  restore(): Promise<boolean> {
    return this.lifecycle.restore();
  }

  /** Stops taking jobs, lets the running one finish (up to `graceMs`), and takes the slot out of service. */
  async close(graceMs: number): Promise<void> {
    const listening = this.server.stopAccepting();
    await this.lifecycle.close(graceMs);
    await listening.finish();
  }
}
