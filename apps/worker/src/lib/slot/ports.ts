import type { KillReason, RunningSandbox, SandboxCgroupFiles } from '@corral/contracts';
import type { RunRequest, RunResult } from '@corral/sandbox';
import type { StreamSignal } from '@corral/contracts';

import type { SlotReadyOutcome, StartJobOutcome } from '@corral/registry';

/** How a job start went in the registry: only `started` lets the job run. */
export type StartOutcome = StartJobOutcome;
/** How making the slot idle went: `gone` (left the inventory) and `claimed_by_other` leave it as it is. */
export type ReadyOutcome = SlotReadyOutcome;

/**
 * Every registry write of one slot: the lifecycle owns when each happens, this port how. A fake
 * of it unit-tests every transition; the worker's is the registry.
 */
export interface SlotStore {
  /** The slot is booting its next sandbox; under `token`, the job that held it gives it up. */
  markBooting(token: string): Promise<unknown>;
  /** The slot is out of service; under `token` when a job's lease still holds it. */
  markDead(token?: string): Promise<unknown>;
  /** The slot is ready with the sandbox `pid`: idle, or assigned to the oldest waiting request. */
  markReady(token: string, pid: number): Promise<ReadyOutcome>;
  /** Uses up the lease's token and records the job for the watchdog. */
  startJob(entry: RunningSandbox, leaseMs: number): Promise<StartOutcome>;
  /** The job moved to another sandbox (a cold boot for its own heap size). */
  updateRunning(entry: RunningSandbox): Promise<unknown>;
  /** Puts a running job back after Redis lost its data. */
  restoreJob(entry: RunningSandbox, leaseMs: number): Promise<boolean>;
  /** Why the watchdog killed this slot's job, if it did. */
  killReason(): Promise<KillReason | null>;
}

/** What the lifecycle needs of a sandbox (the Sandbox of libs/sandbox has all of it). */
export interface SlotSandbox {
  readonly ready: Promise<void>;
  readonly exited: Promise<unknown>;
  readonly pid: number | null;
  readonly groupLeader: number | null;
  readonly cgroup: SandboxCgroupFiles | null;
  readonly cpuAtReadyMs: number;
  readonly runtimeCpuAtReadyMs: number;
  kill(): void;
  run(request: RunRequest): Promise<RunResult>;
  /** A live job's stdin, while it runs (see RunRequest.live). */
  writeStdin(data: string): void;
  endStdin(): void;
  /** Sends the job's runtime process a signal it may handle. */
  signal(signal: StreamSignal): void;
}

/** Starts a sandbox of the slot with this heap (MiB); `generation` counts the slot's sandboxes. */
export type SandboxFactory = (heapMb: number, generation: number) => SlotSandbox;
