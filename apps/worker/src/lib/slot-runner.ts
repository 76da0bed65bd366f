import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CorralError,
  parseExecutionRequest,
  REQUEST_ID_HEADER,
  STATUS_HEADER,
  TOKEN_HEADER,
  WORKER_KEEP_ALIVE_MS,
  WORKER_RUN_PATH,
  type Job,
  type RunningSandbox,
  type SlotRecord,
} from '@corral/contracts';
import type { WorkerConfig } from '@corral/config';
import type { Registry } from '@corral/registry';
import type { Sandbox } from '@corral/sandbox';
import type { Logger } from '@corral/service';
import { readBody, sendError, sendJson } from './http';
import { toExecutionResult } from './outcome';

export interface SlotRunnerDeps {
  registry: Registry;
  config: Readonly<WorkerConfig>;
  log: Logger;
  /** Starts a sandbox process for the slot with this index, with the given heap limit, in the slot's network namespace if any. */
  startSandbox: (slotIndex: number, heapMb: number, netns?: string) => Sandbox;
  /** Limits how many sandboxes boot at once. */
  bootGate: <T>(task: () => Promise<T>) => Promise<T>;
}

/** What the watchdog needs to know of the sandbox running a job: which process, which cgroup, what CPU it had. */
function watchdogEntry(sandbox: Sandbox | null, entry: RunningSandbox): RunningSandbox {
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

/** Lease on a running job: its wall limit plus room for the answer and the next boot. */
const JOB_LEASE_GRACE_MS = 30_000;
const MAX_BOOT_BACKOFF_MS = 30_000;
const REGISTRY_RETRY_MS = 250;

/** A job running this long has the next job's sandbox boot beside it. */
const PREBOOT_AFTER_MS = 50;
/** How long the slot waits for the last job's sandbox to be gone before it takes the next job. */
const PREVIOUS_EXIT_WAIT_MS = 2000;

/**
 * One slot on this host: an HTTP server on the slot's own address, one warm sandbox, at most one
 * job at a time. The next sandbox boots (niced) while a longer job runs, else after it; the job's
 * sandbox is discarded when it ends, and the slot returns to the idle list once the job's
 * processes are gone and the next sandbox is ready.
 */
export class SlotRunner {
  private readonly server: Server;
  private warm: Sandbox | null = null;
  /** The sandbox running the current job, and its entry for the watchdog. */
  private active: Sandbox | null = null;
  private activeEntry: RunningSandbox | null = null;
  private activeLeaseMs = 0;
  private job: Promise<void> | null = null;
  private jobToken = '';
  private replenishing: Promise<void> | null = null;
  private closed = false;
  private readonly log: Logger;
  private readonly bodyLimit: number;
  /** The slot's index on this host (`<host>:<index>`): it picks the sandbox uid. */
  private readonly index: number;

  constructor(
    readonly slot: SlotRecord,
    private readonly deps: SlotRunnerDeps,
  ) {
    this.log = deps.log.child({ slot: slot.id });
    this.index = Number(slot.id.slice(slot.id.lastIndexOf(':') + 1)) || 0;
    const l = deps.config.limits;
    // JSON escaping can make a byte six; the router has already checked the real limits.
    this.bodyLimit = (l.maxCodeBytes + l.maxStdinBytes + l.maxArgs * l.maxArgBytes) * 6 + 65_536;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err }, 'request failed');
        sendError(res, err instanceof CorralError ? err : 'internal');
      });
    });
    // Routers keep their connection to the slot between jobs (and close it first).
    this.server.keepAliveTimeout = WORKER_KEEP_ALIVE_MS;
  }

  /** Binds the worker port on the slot's address. @throws on EADDRNOTAVAIL and the like */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.deps.config.port, this.slot.ip, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Boots the slot's next sandbox (in the background) and makes the slot idle once it is ready.
   * After a job: `token` is the job's, `prebooted` the sandbox booted while it ran (if any), and
   * `previous` the job's sandbox, which must be gone before the slot takes another job.
   */
  replenish(token = '', prebooted?: Promise<Sandbox | null>, previous?: Sandbox): Promise<void> {
    // A plain boot joins the one under way; the end of a job never does: its token must be
    // released (and its spare used), so it runs after whatever is under way.
    if (this.replenishing && token === '' && !prebooted) return this.replenishing;
    const after = this.replenishing ?? Promise.resolve();
    const run: Promise<void> = after
      .then(() => this.bootUntilReady(token, prebooted, previous))
      .finally(() => {
        if (this.replenishing === run) this.replenishing = null;
      });
    this.replenishing = run;
    return run;
  }

  /** Boots one sandbox with the default heap, through the host's boot gate. */
  private async bootOne(): Promise<Sandbox> {
    return this.deps.bootGate(async () => {
      const started = this.deps.startSandbox(this.index, this.deps.config.limits.defaultMemoryMb, this.slot.netns);
      try {
        await started.ready;
      } catch (err) {
        started.kill();
        throw err;
      }
      return started;
    });
  }

  /** The next job's sandbox, started while the current job runs; null when it fails (booted again after the job). */
  private preboot(): Promise<Sandbox | null> {
    return this.bootOne().catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'the next sandbox failed to boot during the job; booting it again after the job');
      return null;
    });
  }

  private async bootUntilReady(token: string, prebooted?: Promise<Sandbox | null>, previous?: Sandbox): Promise<void> {
    const { registry, config } = this.deps;
    if (previous) await Promise.race([previous.exited, sleep(PREVIOUS_EXIT_WAIT_MS)]);
    const ready = prebooted ? await prebooted : null;
    if (ready) {
      // Straight from the job to idle, under the job's token (one registry call).
      await this.makeReady(ready, token);
      return;
    }
    if (this.closed) {
      // Closed while the last job's sandbox ended: take the slot out under the job's token.
      if (token !== '') await registry.slots.setState(config.hostId, this.slot.id, 'dead', token).catch(() => undefined);
      return;
    }
    const marked = await this.persist('mark the slot booting', () => registry.slots.setState(config.hostId, this.slot.id, 'booting', token));
    this.log.debug({ marked, token: token !== '' }, 'booting a sandbox');
    for (let attempt = 0; !this.closed; attempt += 1) {
      let sandbox: Sandbox;
      try {
        sandbox = await this.bootOne();
      } catch (err) {
        const backoffMs = Math.min(MAX_BOOT_BACKOFF_MS, 250 * 2 ** attempt);
        this.log.error({ err, attempt, backoffMs }, 'sandbox failed to boot');
        await this.persist('mark the slot dead', () => registry.slots.setState(config.hostId, this.slot.id, 'dead'));
        await sleep(backoffMs);
        continue;
      }
      await this.makeReady(sandbox, '');
      return;
    }
  }

  /** Keeps `sandbox` as the slot's warm one and puts the slot back into service (under `token`, or none). */
  private async makeReady(sandbox: Sandbox, token: string): Promise<void> {
    const { registry, config } = this.deps;
    if (this.closed) {
      sandbox.kill();
      await sandbox.exited;
      // close() cannot take the slot out while the last job's token still holds it: do it here.
      if (token !== '') await registry.slots.setState(config.hostId, this.slot.id, 'dead', token).catch(() => undefined);
      return;
    }
    this.adoptWarm(sandbox);
    const outcome = await this.persist('put the slot back into service', () =>
      registry.slots.ready(config.hostId, this.slot.id, token, sandbox.pid ?? 0, config.port),
    );
    this.log.debug({ outcome, pid: sandbox.pid }, 'sandbox ready');
    if (outcome === 'gone') this.log.warn('slot left the inventory while its sandbox booted');
    else if (outcome === 'claimed_by_other') this.log.warn('slot is held under another token; not made idle');
  }

  /**
   * Retries a registry write until it succeeds or the slot closes: Redis may be restarting,
   * and a slot must not stay out of service once it is back (every 250 ms).
   */
  private async persist<T>(what: string, write: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; !this.closed; attempt += 1) {
      try {
        return await write();
      } catch (err) {
        if (attempt % 20 === 0) this.log.warn({ err: (err as Error).message, attempt }, `cannot ${what} yet; retrying`);
        await sleep(REGISTRY_RETRY_MS);
      }
    }
    return undefined;
  }

  /**
   * Redis lost its data and the slot was published again, or the slot was taken out of service
   * while this worker serves it: put back what this slot is doing, its running job (lease and
   * watchdog entry) or its warm sandbox (idle).
   */
  async restore(): Promise<boolean> {
    const { registry, config } = this.deps;
    if (this.closed) return false;
    if (this.job && this.activeEntry) return registry.jobs.restore(config.hostId, this.activeEntry, this.activeLeaseMs);
    // A boot under way may have found the slot gone (Redis had just lost it): once it is done,
    // its sandbox is warm and the slot, published again, can be made idle.
    await this.replenishing;
    if (!this.warm?.pid || this.job || this.closed) return false;
    const outcome = await registry.slots.ready(config.hostId, this.slot.id, '', this.warm.pid, config.port);
    return outcome === 'idle' || outcome === 'assigned';
  }

  /** Keeps `sandbox` as the warm one; if it dies while waiting, the slot boots another. */
  private adoptWarm(sandbox: Sandbox): void {
    const before = this.warm;
    this.warm = sandbox;
    if (before && before !== sandbox) before.kill(); // a boot that overlapped another: one warm sandbox per slot
    void sandbox.exited.then((exit) => {
      if (this.warm !== sandbox || this.closed) return;
      this.warm = null;
      this.log.warn({ exit }, 'warm sandbox died before its job; booting another');
      void this.replenish();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== WORKER_RUN_PATH) return sendError(res, 'not_found');
    if (req.method !== 'POST') return sendError(res, 'method_not_allowed');
    if (this.closed) return sendError(res, 'shutting_down');
    const token = req.headers[TOKEN_HEADER];
    if (typeof token !== 'string' || token === '') return sendError(res, 'bad_token');
    const id = (req.headers[REQUEST_ID_HEADER] as string | undefined) || randomUUID();
    const body = await readBody(req, this.bodyLimit);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return sendError(res, 'invalid_json');
    }
    const job = parseExecutionRequest(parsed, this.deps.config.limits);
    if (this.job) return sendError(res, 'slot_busy');
    const running = this.runJob(id, token, job, res);
    this.job = running;
    try {
      await running;
    } finally {
      this.job = null;
    }
  }

  private async runJob(id: string, token: string, job: Job, res: ServerResponse): Promise<void> {
    const { registry, config } = this.deps;
    const log = this.log.child({ requestId: id });
    let sandbox = this.warm;
    const entry = watchdogEntry(sandbox, {
      slotId: this.slot.id,
      token,
      pid: 0,
      pgid: 0,
      cpuBaseMs: 0,
      cpuMs: job.cpuMs,
      memoryMb: job.memoryMb,
      startedAt: Date.now(),
    });
    let started: Awaited<ReturnType<typeof registry.jobs.start>>;
    try {
      started = await registry.jobs.start(config.hostId, entry, job.timeoutMs + JOB_LEASE_GRACE_MS);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot reach the registry: job not started');
      return sendError(res, 'unavailable', 'The registry (Redis) cannot be reached; the job did not start.');
    }
    if (started !== 'started') {
      log.warn({ outcome: started }, 'job refused');
      return sendError(res, 'bad_token');
    }
    this.activeEntry = entry;
    this.activeLeaseMs = job.timeoutMs + JOB_LEASE_GRACE_MS;
    this.jobToken = token;
    this.warm = null;
    // A job still running after PREBOOT_AFTER_MS has the next job's sandbox boot beside it
    // (niced), so the slot is ready as soon as it ends. Not at once: spawning takes the worker's
    // thread for milliseconds, and a short job's answer should not wait behind it.
    let next: Promise<Sandbox | null> | undefined;
    const prebootTimer = setTimeout(() => (next = this.preboot()), PREBOOT_AFTER_MS);
    try {
      if (!sandbox || sandbox.pid === null || job.memoryMb !== config.limits.defaultMemoryMb) {
        // No warm sandbox fits (another heap limit, or it died): boot one for this job.
        sandbox?.kill();
        sandbox = this.deps.startSandbox(this.index, job.memoryMb, this.slot.netns);
        await sandbox.ready;
        this.activeEntry = watchdogEntry(sandbox, entry);
        await registry.jobs.update(config.hostId, this.activeEntry);
      }
      const current = sandbox;
      this.active = current;
      res.once('close', () => {
        if (!res.writableFinished) current.kill(); // the router went away: nobody waits for the result
      });
      const run = await current.run({
        code: job.code,
        args: job.args,
        stdin: job.stdin,
        timeoutMs: job.timeoutMs,
        maxOutputBytes: config.maxOutputBytes,
      });
      const reason = run.exit.signal === 'SIGKILL' && !run.killedFor ? await registry.jobs.killReason(this.slot.id).catch(() => null) : null;
      const result = toExecutionResult(id, run, reason);
      sendJson(res, 200, result, { [STATUS_HEADER]: result.status }); // the answer first, then the log line
      log.info({ status: result.status, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs, cpuMs: result.cpuMs }, 'job done');
    } finally {
      sandbox?.kill();
      this.active = null;
      this.activeEntry = null;
      clearTimeout(prebootTimer);
      const jobToken = this.jobToken;
      this.jobToken = '';
      // Closing: the slot goes out of service under the job's token (close() no longer holds it).
      if (this.closed) {
        const spare = await next;
        spare?.kill();
        // Both gone (their launchers remove their cgroups) before the worker removes the host's.
        await Promise.all([spare?.exited, sandbox && Promise.race([sandbox.exited, sleep(PREVIOUS_EXIT_WAIT_MS)])]);
        await registry.slots.setState(config.hostId, this.slot.id, 'dead', jobToken).catch(() => undefined);
      } else void this.replenish(jobToken, next, sandbox ?? undefined);
    }
  }

  /** Stops taking jobs, lets the running one finish (up to `graceMs`), and takes the slot out of service. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const { registry, config } = this.deps;
    if (!this.job) await registry.slots.setState(config.hostId, this.slot.id, 'dead').catch(() => undefined);
    if (this.job) {
      await Promise.race([this.job, sleep(graceMs)]);
      if (this.active) {
        this.log.warn({ graceMs }, 'job still running at the end of the shutdown grace: killing it');
        this.active.kill();
        await this.job;
      }
    }
    const warm = this.warm;
    this.warm = null;
    warm?.kill();
    await this.replenishing;
    await warm?.exited; // its launcher removes its cgroup once everything in it has ended
    this.server.closeAllConnections();
    await stopped;
    await registry.slots.setState(config.hostId, this.slot.id, 'dead').catch(() => undefined);
  }
}
