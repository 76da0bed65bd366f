import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, KillReason, RunningSandbox } from '@corral/contracts';
import type { LiveOutput, RunResult } from '@corral/sandbox';
import type { Logger } from '@corral/service';
import type { SandboxFactory, SlotSandbox, SlotStore } from './ports';

/**
 * One slot's life, written down. Every registry write of the slot happens in a transition
 * below, through the store port.
 *
 *   booting ──boot ok──▶ warm ──job──▶ running ──job ends──▶ draining ──next ready──▶ warm
 *      ▲ boot fails: dead, retry  │ warm sandbox dies          (spare booted beside a job past
 *      └──────────────────────────┘                             50 ms, or a new boot: booting)
 *   any ──close──▶ closed (a running job may finish within the grace, then the slot is dead)
 */
export type SlotState =
  | { kind: 'booting' }
  | { kind: 'warm'; sandbox: SlotSandbox }
  | { kind: 'running'; token: string; sandbox: SlotSandbox | null; entry: RunningSandbox; leaseMs: number; spare: Promise<SlotSandbox | null> | null }
  | { kind: 'draining'; token: string }
  | { kind: 'closed' };

/** What a job request came to: a result, or why it never started. */
export type JobOutcome =
  | { kind: 'done'; run: RunResult; killReason: KillReason | null }
  | { kind: 'refused'; code: 'slot_busy' | 'shutting_down' | 'bad_token' | 'unavailable'; detail?: string };

export interface LifecycleOptions {
  slotId: string;
  store: SlotStore;
  startSandbox: SandboxFactory;
  /** Limits how many sandboxes of the host boot at once. */
  bootGate: <T>(task: () => Promise<T>) => Promise<T>;
  defaultMemoryMb: number;
  maxOutputBytes: number;
  /** Bytes of collected files one result may carry. */
  maxCollectBytes: number;
  log: Logger;
  /** Registry writes are retried this often until they succeed or the slot closes. */
  retryMs?: number;
}

/** Lease on a running job: its wall limit plus room for the answer and the next boot. */
export const JOB_LEASE_GRACE_MS = 30_000;
/** A job running this long has the next job's sandbox boot beside it. */
export const PREBOOT_AFTER_MS = 50;
/** How long the slot waits for the last job's sandbox to be gone before it takes the next job. */
export const PREVIOUS_EXIT_WAIT_MS = 2000;
const MAX_BOOT_BACKOFF_MS = 30_000;

/** What the watchdog needs to know of the sandbox running a job: which process, which cgroup, what CPU it had. */
export function watchdogEntry(sandbox: SlotSandbox | null, entry: RunningSandbox): RunningSandbox {
  if (!sandbox) return entry;
  const { cgroup } = sandbox;
  return {
    ...entry,
    pid: sandbox.pid ?? 0,
    pgid: sandbox.groupLeader ?? 0,
    // The watchdog samples the cgroup when there is one, else the runtime process alone; the
    // boot's share was read while the sandbox waited, not on the job's path.
    cpuBaseMs: cgroup ? sandbox.cpuAtReadyMs : sandbox.runtimeCpuAtReadyMs,
    ...(cgroup ? { cgroup } : {}),
  };
}

export class SlotLifecycle {
  private current: SlotState = { kind: 'booting' };
  private closing = false;
  /** The boot loop under way, if any (one at a time). */
  private booting: Promise<void> | null = null;
  /** The job under way, if any. */
  private job: Promise<unknown> | null = null;
  /** The end of the last job's transition to the next sandbox. */
  private draining: Promise<void> = Promise.resolve();
  private generation = 0;
  private readonly retryMs: number;

  constructor(private readonly o: LifecycleOptions) {
    this.retryMs = o.retryMs ?? 250;
  }

  get state(): SlotState {
    return this.current;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Boots the first sandbox; resolves when the slot is warm (or closed). */
  start(): Promise<void> {
    return this.bootLoop('');
  }

  /** Boots a sandbox with the default heap, through the host's boot gate. */
  private bootOne(): Promise<SlotSandbox> {
    return this.o.bootGate(async () => {
      const started = this.o.startSandbox(this.o.defaultMemoryMb, (this.generation += 1));
      try {
        await started.ready;
      } catch (err) {
        started.kill();
        throw err;
      }
      return started;
    });
  }

  /**
   * Retries a registry write until it succeeds or the slot closes: Redis may be restarting, and
   * a slot must not stay out of service once it is back.
   */
  private async persist<T>(what: string, write: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; !this.closing; attempt += 1) {
      try {
        return await write();
      } catch (err) {
        if (attempt % 20 === 0) this.o.log.warn({ err: (err as Error).message, attempt }, `cannot ${what} yet; retrying`);
        await sleep(this.retryMs);
      }
    }
    return undefined;
  }

  /** booting: boots until a sandbox is ready (dead with backoff while it fails), then warm. `token`: the job that held the slot. */
  private bootLoop(token: string): Promise<void> {
    if (this.booting) return this.booting;
    const run = (async () => {
      if (this.closing) return;
      await this.persist('mark the slot booting', () => this.o.store.markBooting(token));
      for (let attempt = 0; !this.closing; attempt += 1) {
        let sandbox: SlotSandbox;
        try {
          sandbox = await this.bootOne();
        } catch (err) {
          const backoffMs = Math.min(MAX_BOOT_BACKOFF_MS, 250 * 2 ** attempt);
          this.o.log.error({ err, attempt, backoffMs }, 'sandbox failed to boot');
          await this.persist('mark the slot dead', () => this.o.store.markDead());
          await sleep(backoffMs);
          continue;
        }
        await this.offer(sandbox, '');
        return;
      }
    })().finally(() => (this.booting = null));
    this.booting = run;
    return run;
  }

  /** A booted sandbox: the slot's warm one, the running job's spare, or, closed, nobody's. */
  private async offer(sandbox: SlotSandbox, token: string): Promise<void> {
    const state = this.current;
    if (this.closing) {
      sandbox.kill();
      await sandbox.exited;
      if (token !== '') await this.o.store.markDead(token).catch(() => undefined);
      return;
    }
    if (state.kind === 'running') {
      // A job arrived while this booted (it started a sandbox of its own): keep it for after the job.
      if (state.spare === null) state.spare = Promise.resolve(sandbox);
      else sandbox.kill();
      return;
    }
    if (state.kind === 'warm' && state.sandbox !== sandbox) state.sandbox.kill(); // one warm sandbox per slot
    this.current = { kind: 'warm', sandbox };
    void sandbox.exited.then(() => {
      if (this.current.kind !== 'warm' || this.current.sandbox !== sandbox || this.closing) return;
      this.o.log.warn('warm sandbox died before its job; booting another');
      this.current = { kind: 'booting' };
      void this.bootLoop('');
    });
    const outcome = await this.persist('put the slot back into service', () => this.o.store.markReady(token, sandbox.pid ?? 0));
    this.o.log.debug({ outcome, pid: sandbox.pid }, 'sandbox ready');
    if (outcome === 'gone') this.o.log.warn('slot left the inventory while its sandbox booted');
    else if (outcome === 'claimed_by_other') this.o.log.warn('slot is held under another token; not made idle');
  }

  /** warm (or booting) → running → draining: runs one job under the lease's `token`. */
  async run(token: string, job: Job, onStarted: (sandbox: SlotSandbox) => void = () => undefined, live?: LiveOutput): Promise<JobOutcome> {
    if (this.closing) return { kind: 'refused', code: 'shutting_down' };
    if (this.job || this.current.kind === 'running') return { kind: 'refused', code: 'slot_busy' };
    const job$ = this.runJob(token, job, onStarted, live);
    this.job = job$;
    try {
      return await job$;
    } finally {
      this.job = null;
    }
  }

  private async runJob(token: string, job: Job, onStarted: (sandbox: SlotSandbox) => void, live: LiveOutput | undefined): Promise<JobOutcome> {
    const { store } = this.o;
    const before = this.current;
    let sandbox = before.kind === 'warm' ? before.sandbox : null;
    const leaseMs = job.timeoutMs + JOB_LEASE_GRACE_MS;
    const entry = watchdogEntry(sandbox, { slotId: this.o.slotId, token, pid: 0, pgid: 0, cpuBaseMs: 0, cpuMs: job.cpuMs, memoryMb: job.memoryMb, startedAt: Date.now() });
    let started;
    try {
      started = await store.startJob(entry, leaseMs);
    } catch (err) {
      return { kind: 'refused', code: 'unavailable', detail: (err as Error).message };
    }
    if (started !== 'started') return { kind: 'refused', code: 'bad_token', detail: started };
    const running: Extract<SlotState, { kind: 'running' }> = { kind: 'running', token, sandbox, entry, leaseMs, spare: null };
    this.current = running;
    // A job still running after PREBOOT_AFTER_MS has the next job's sandbox boot beside it (niced),
    // so the slot is ready as soon as it ends. Not at once: spawning takes the worker's thread for
    // milliseconds, and a short job's answer should not wait behind it.
    const prebootTimer = setTimeout(() => {
      running.spare ??= this.bootOne().catch((err: unknown) => {
        this.o.log.warn({ err: (err as Error).message }, 'the next sandbox failed to boot during the job; booting it again after the job');
        return null;
      });
    }, PREBOOT_AFTER_MS);
    try {
      if (!sandbox || sandbox.pid === null || job.memoryMb !== this.o.defaultMemoryMb) {
        // No warm sandbox fits (another heap limit, or it died): boot one for this job.
        sandbox?.kill();
        sandbox = this.o.startSandbox(job.memoryMb, (this.generation += 1));
        running.sandbox = sandbox;
        await sandbox.ready;
        running.entry = watchdogEntry(sandbox, entry);
        await store.updateRunning(running.entry);
      }
      onStarted(sandbox);
      const run = await sandbox.run({
        language: job.language,
        files: job.files,
        entry: job.entry,
        collect: job.collect,
        maxCollectBytes: this.o.maxCollectBytes,
        args: job.args,
        stdin: job.stdin,
        timeoutMs: job.timeoutMs,
        maxOutputBytes: this.o.maxOutputBytes,
        ...(live ? { live } : {}),
      });
      const killReason = run.exit.signal === 'SIGKILL' && !run.killedFor ? await store.killReason().catch(() => null) : null;
      return { kind: 'done', run, killReason };
    } finally {
      clearTimeout(prebootTimer);
      sandbox?.kill();
      this.current = { kind: 'draining', token };
      this.draining = this.drain(token, running.spare, sandbox);
    }
  }

  /** draining → warm (or closed): the job's sandbox gone, the next one ready, the slot back under the job's token. */
  private async drain(token: string, spare: Promise<SlotSandbox | null> | null, previous: SlotSandbox | null): Promise<void> {
    if (previous) await Promise.race([previous.exited, sleep(PREVIOUS_EXIT_WAIT_MS)]);
    const ready = spare ? await spare : null;
    if (this.closing) {
      ready?.kill();
      // Both gone (their launchers remove their cgroups) before the worker removes the host's.
      await ready?.exited;
      await this.o.store.markDead(token).catch(() => undefined);
      this.current = { kind: 'closed' };
      return;
    }
    if (ready) return this.offer(ready, token); // straight from the job to idle: one registry call
    this.current = { kind: 'booting' };
    return this.bootLoop(token);
  }

  /**
   * Redis lost its data and the slot was published again, or the slot was taken out of service
   * while this worker serves it: puts back what the slot is doing, its running job or its warm
   * sandbox. Booting or draining, the transition under way publishes it by itself.
   */
  async restore(): Promise<boolean> {
    const state = this.current;
    if (this.closing) return false;
    if (state.kind === 'running') return this.o.store.restoreJob(state.entry, state.leaseMs);
    if (state.kind !== 'warm' || state.sandbox.pid === null) return false;
    const outcome = await this.o.store.markReady('', state.sandbox.pid);
    return outcome === 'idle' || outcome === 'assigned';
  }

  /** any → closed: takes no more jobs, lets the running one finish (up to `graceMs`), kills the rest, and takes the slot out of service. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    // Out of rotation at once; a job's lease keeps the slot until that job has ended.
    if (!this.job) await this.o.store.markDead().catch(() => undefined);
    if (this.job) {
      await Promise.race([this.job, sleep(graceMs)]);
      const state = this.current;
      if (state.kind === 'running' && state.sandbox) {
        this.o.log.warn({ graceMs }, 'job still running at the end of the shutdown grace: killing it');
        state.sandbox.kill();
        await this.job;
      }
    }
    await this.draining;
    const state = this.current;
    if (state.kind === 'warm') {
      state.sandbox.kill();
      await state.sandbox.exited; // its launcher removes its cgroup once everything in it has ended
    }
    await this.booting;
    this.current = { kind: 'closed' };
    await this.o.store.markDead().catch(() => undefined);
  }
}
