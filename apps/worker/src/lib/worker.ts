import { execFileSync } from 'node:child_process';
import type { WorkerConfig } from '@corral/config';
import type { SlotRecord } from '@corral/contracts';
import { Registry } from '@corral/registry';
import { resolveJanitor, Sandbox, type SandboxProfile } from '@corral/sandbox';
import { runLoop, type Logger, type Running } from '@corral/service';
import { concurrencyGate } from './gate';
import { prepareSandboxes } from './jail';
import { startJanitor } from './janitor';
import { SlotRunner } from './slot-runner';

export interface WorkerHandle extends Running {
  /** The slots this worker serves now, by id. */
  readonly slots: ReadonlyMap<string, SlotRunner>;
  /** Re-reads the inventory and serves exactly this host's slots. */
  reconcile(): Promise<void>;
}

const HEARTBEAT_EVERY_MS = 1000;

/** The sandbox runtime's `node --version` (once, at start-up). */
function runtimeVersion(nodePath: string): string {
  return execFileSync(nodePath, ['--version'], { encoding: 'utf8' }).trim();
}
const HEARTBEAT_TTL_MS = 5000;

/** Log boot progress every this many sandboxes when many boot together. */
const PROGRESS_EVERY = 100;

/**
 * Starts the worker of one host: serves every slot netprov published for this host, follows the
 * inventory as it changes, and takes its slots out of service on close.
 */
export async function startWorker(config: Readonly<WorkerConfig>, log: Logger): Promise<WorkerHandle> {
  const janitorPath = resolveJanitor();
  const registry = await Registry.connect({
    redis: config.redis,
    prefix: config.redisPrefix,
    onError: (err) => log.warn({ err: err.message }, 'redis connection error'),
  });
  const bootGate = concurrencyGate(config.bootConcurrency);
  const runners = new Map<string, SlotRunner>();
  let booted = 0;
  let closing = false;

  let profile: SandboxProfile;
  try {
    profile = await prepareSandboxes(config, log);
  } catch (err) {
    await registry.close();
    throw err;
  }
  // Whatever this worker made on the host goes with it, however it ends.
  const janitor = startJanitor(janitorPath, profile.folders());
  const deps = {
    registry,
    config,
    log,
    bootGate,
    startSandbox: (slotIndex: number, heapMb: number, generation: number, netns?: string) =>
      new Sandbox(profile.options({ slotIndex, generation, heapMb, ...(netns ? { netns } : {}) })),
  };

  async function serve(slot: SlotRecord): Promise<void> {
    const runner = new SlotRunner(slot, deps);
    try {
      await runner.listen();
    } catch (err) {
      log.error({ err, slot: slot.id, ip: slot.ip, port: config.port }, 'cannot bind the slot address; slot stays dead');
      return;
    }
    runners.set(slot.id, runner);
    await runner.replenish();
    booted += 1;
    if (booted % PROGRESS_EVERY === 0) log.info({ booted }, 'sandboxes booted');
  }

  // The registry's epoch changes only when Redis lost its data: then this worker publishes again
  // what it holds (its slots, their running jobs, their warm sandboxes) instead of taking the
  // empty inventory for netprov's word.
  let epoch = await registry.liveness.epoch();
  async function restoreIfLost(): Promise<boolean> {
    const current = await registry.liveness.epoch();
    if (current === epoch) return false;
    epoch = current;
    const byBackend = new Map<string, { id: string; ip: string }[]>();
    for (const runner of runners.values()) {
      const list = byBackend.get(runner.slot.backend) ?? [];
      list.push({ id: runner.slot.id, ip: runner.slot.ip });
      byBackend.set(runner.slot.backend, list);
    }
    for (const [backend, slots] of byBackend) await registry.slots.publish(config.hostId, backend as SlotRecord['backend'], slots);
    await Promise.all([...runners.values()].map((runner) => runner.restore()));
    log.warn({ slots: runners.size }, 'Redis lost its data: published this host’s slots, jobs and warm sandboxes again');
    return true;
  }

  let reconciling: Promise<void> | null = null;
  async function reconcileOnce(): Promise<void> {
    if (await restoreIfLost()) return;
    const wanted = new Map((await registry.slots.list(config.hostId)).map((s) => [s.id, s]));
    const starts: Promise<void>[] = [];
    for (const [id, runner] of runners) {
      const slot = wanted.get(id);
      if (!slot || slot.ip !== runner.slot.ip || slot.netns !== runner.slot.netns) {
        runners.delete(id);
        starts.push(runner.close(0));
      } else if (slot.state === 'dead') {
        // Taken out of service while this worker serves it (the watchdog missed its heartbeat,
        // say while Redis restarted): put back its job or its warm sandbox. Not awaited: a boot
        // under way must not hold up the inventory.
        runner.restore().then(
          (back) => back && log.warn({ slot: id }, 'slot was out of service while this worker serves it: put it back'),
          (err: unknown) => log.error({ err, slot: id }, 'could not put the slot back'),
        );
      }
    }
    for (const [id, slot] of wanted) if (!runners.has(id)) starts.push(serve(slot));
    if (starts.length > 0) log.info({ changes: starts.length, slots: wanted.size }, 'following the slot inventory');
    await Promise.all(starts);
  }
  const reconcile = async (): Promise<void> => {
    if (closing) return;
    // Serialised: two overlapping passes would serve a slot twice.
    while (reconciling) await reconciling;
    reconciling = reconcileOnce().finally(() => (reconciling = null));
    await reconciling;
  };

  const unsubscribe = await registry.liveness.subscribe((event) => {
    if (event.type === 'inventory' && event.host === config.hostId) {
      reconcile().catch((err: unknown) => log.error({ err }, 'inventory reconcile failed'));
    }
  });
  const stopLoop = new AbortController();
  const initial = reconcile();
  const loop = runLoop(config.inventoryPollMs, stopLoop.signal, reconcile, (err) => log.error({ err }, 'inventory reconcile failed'));
  // Alive as long as this beats; the host's watchdog takes the slots out of service when it stops.
  const hostInfo = {
    id: config.hostId,
    jail: { mode: profile.jail.mode, layers: profile.jail.layers, off: [...profile.jail.off] },
    runtime: runtimeVersion(profile.nodePath),
    packages: [...profile.packages],
  };
  const beat = runLoop(HEARTBEAT_EVERY_MS, stopLoop.signal, () => registry.liveness.heartbeat(config.hostId, HEARTBEAT_TTL_MS, { ...hostInfo, updatedAt: Date.now() }), (err) =>
    log.warn({ err: (err as Error).message }, 'heartbeat failed'),
  );
  registry.liveness.onReconnect(() => {
    log.info('reconnected to Redis');
    reconcile().catch((err: unknown) => log.error({ err }, 'reconcile after reconnect failed'));
  });
  await initial;
  log.info({ slots: runners.size, port: config.port, runtime: profile.nodePath }, 'worker ready');

  return {
    slots: runners,
    reconcile,
    async close() {
      closing = true;
      stopLoop.abort();
      await loop;
      await beat;
      await reconciling;
      await unsubscribe();
      await Promise.all([...runners.values()].map((r) => r.close(config.shutdownGraceMs)));
      runners.clear();
      await registry.close();
      profile.release();
      janitor.release();
    },
  };
}
