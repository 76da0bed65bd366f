import type { ApiKey } from '@corral/config';
import { CorralError, type Job, type Lease } from '@corral/contracts';
import { RegistryUnavailableError, type Admission, type AdmissionUsage, type KeyLimits } from '@corral/registry';
import type { Attempt } from './proxy';

/** Room left for the answer to travel once the job's own wall limit has passed. */
const ANSWER_GRACE_MS = 30_000;

/** API keys' limits, counted across routers (the registry's admission facet). */
export interface AdmissionPort {
  admit(keyName: string, requestId: string, limits: KeyLimits, usage?: AdmissionUsage): Promise<Admission>;
  release(keyName: string, requestId: string): Promise<void>;
}

/** A lease on a slot, waiting in the shared queue until `deadlineAt` (the router's SlotQueue). */
export interface SlotPort {
  /** @throws CorralError queue_full, no_capacity or shutting_down; RegistryUnavailableError; the signal's reason when aborted */
  acquire(requestId: string, deadlineAt: number, signal: AbortSignal, reserve?: number): Promise<Lease>;
}

/** What the registry settles about a claim (the registry's queue facet). */
export interface ClaimPort {
  /** Gives back an unused claim: true proves the job never started (its token can no longer start it). */
  release(lease: Lease): Promise<boolean>;
  /** Takes the claimed slot out of service. */
  markDead(lease: Lease): Promise<boolean>;
}

/**
 * Hands the job to the worker holding `lease` and streams its answer to the client; never
 * rejects. When the client goes away (the context's signal) it cuts the connection to the worker
 * and ends with `client_gone`.
 */
export type HandOver = (lease: Lease, timeoutMs: number) => Promise<Attempt>;

export interface DispatchMetrics {
  queueWait(seconds: number): void;
  proxyError(reason: string): void;
}

export interface DispatchLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface DispatchPorts {
  admission: AdmissionPort;
  slots: SlotPort;
  claims: ClaimPort;
  metrics: DispatchMetrics;
  clock: { now(): number };
  log: DispatchLog;
}

export interface DispatchContext {
  requestId: string;
  /** The API key asking, when keys are on. */
  key: ApiKey | null;
  /** Epoch ms the request arrived: its queue deadline counts from here. */
  arrivedAt: number;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  handOver: HandOver;
  queueTimeoutMs: number;
  /** Other slots tried after the first when a slot cannot take the job. */
  maxRetries: number;
  ports: DispatchPorts;
  /**
   * What the key's admission counts: one request (the default), or, for an execution of a
   * submission whose executions were all counted against the rate when it was accepted, a
   * place in flight alone.
   */
  usage?: AdmissionUsage;
  /** Background work: idle slots left to clients' requests (see SlotQueue.acquire); 0 for a client's own request. */
  reserve?: number;
}

/** How one execution request ended; the route maps it to HTTP, metrics count it by `kind`. */
export type DispatchOutcome =
  /** A worker answered, and its answer went to the client. */
  | { kind: 'answered'; slotId: string; attempt: number; httpStatus: number; executionStatus: string | undefined }
  | { kind: 'rate_limited'; keyName: string; ratePerMinute: number; retryAfterMs: number }
  | { kind: 'concurrency_limited'; keyName: string; maxConcurrent: number }
  | { kind: 'queue_full'; message: string }
  | { kind: 'no_capacity'; waitedMs: number }
  | { kind: 'shutting_down' }
  /** The registry cannot be reached, or `attempts` slots in a row could not take the job. */
  | { kind: 'unavailable'; cause: 'registry' } | { kind: 'unavailable'; cause: 'retries'; attempts: number }
  /** The worker failed after the hand-over and the job may have run: never retried, its slot taken out. */
  | { kind: 'worker_failed'; slotId: string; reason: string }
  /** The client went away first: nothing to answer (a claim it held was given back). */
  | { kind: 'client_gone' };

/**
 * Runs one validated job: admits its API key, gets a slot (waiting in the shared queue), hands
 * the job over, and retries on another slot only when the job cannot have started, so that a
 * job never runs twice. Expected endings are outcomes; only an unexpected failure rejects.
 */
export async function dispatchExecution(job: Job, ctx: DispatchContext): Promise<DispatchOutcome> {
  const { key, ports } = ctx;
  if (!key) return runOnASlot(job, ctx);
  // Counted while it may wait and run; if this router dies, the count expires by itself.
  const holdMs = ctx.queueTimeoutMs + job.timeoutMs + ANSWER_GRACE_MS;
  let admission: Admission;
  try {
    admission = await ports.admission.admit(key.name, ctx.requestId, { ratePerMinute: key.ratePerMinute, maxConcurrent: key.maxConcurrent, holdMs }, ctx.usage);
  } catch (err) {
    return registryDown(err, ports.log);
  }
  if (!admission.admitted) {
    ports.log.warn({ limit: admission.limit }, 'API key over its limit');
    return admission.limit === 'rate'
      ? { kind: 'rate_limited', keyName: key.name, ratePerMinute: key.ratePerMinute, retryAfterMs: admission.retryAfterMs }
      : { kind: 'concurrency_limited', keyName: key.name, maxConcurrent: key.maxConcurrent };
  }
  try {
    return await runOnASlot(job, ctx);
  } finally {
    ports.admission.release(key.name, ctx.requestId).catch((err: unknown) => ports.log.warn({ err }, 'releasing the key count failed'));
  }
}

/** The registry could not be reached: an outcome; anything else is a real failure. */
function registryDown(err: unknown, log: DispatchLog): DispatchOutcome {
  if (!(err instanceof RegistryUnavailableError)) throw err;
  log.warn({ err: err.message }, 'cannot reach the registry');
  return { kind: 'unavailable', cause: 'registry' };
}

async function runOnASlot(job: Job, ctx: DispatchContext): Promise<DispatchOutcome> {
  const { ports, signal } = ctx;
  const { claims, log, clock } = ports;
  const deadline = ctx.arrivedAt + ctx.queueTimeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    let lease: Lease;
    try {
      lease = await ports.slots.acquire(ctx.requestId, deadline, signal, ctx.reserve ?? 0);
    } catch (err) {
      if (signal.aborted) return { kind: 'client_gone' };
      if (err instanceof CorralError) {
        if (err.code === 'no_capacity') {
          const waitedMs = clock.now() - ctx.arrivedAt;
          log.warn({ waitedMs }, 'no slot within the queue deadline');
          return { kind: 'no_capacity', waitedMs };
        }
        if (err.code === 'queue_full') return { kind: 'queue_full', message: err.message };
        if (err.code === 'shutting_down') return { kind: 'shutting_down' };
      }
      return registryDown(err, log);
    }
    if (signal.aborted) {
      await claims.release(lease).catch((err: unknown) => log.warn({ err }, 'giving back the claim of a client that went away failed'));
      return { kind: 'client_gone' };
    }
    if (attempt === 0) ports.metrics.queueWait((clock.now() - ctx.arrivedAt) / 1000);
    const handed = await ctx.handOver(lease, job.timeoutMs + ANSWER_GRACE_MS);
    const slot = lease.slotId;
    if (handed.kind === 'client_gone') {
      // The connection to the worker is cut. A job the worker started stops with it, and the
      // worker puts the slot back; a claim it never used is given back here, or the slot would
      // stay claimed, running nothing, until its lease ran out.
      const givenBack = await claims.release(lease).catch((err: unknown) => {
        log.warn({ err }, 'giving back the claim of a client that went away failed');
        return false;
      });
      log.info({ slot, givenBack }, 'client went away during the hand-over');
      return { kind: 'client_gone' };
    }
    if (handed.kind === 'answered') {
      log.info({ slot, attempt, httpStatus: handed.httpStatus, status: handed.executionStatus, ms: clock.now() - ctx.arrivedAt }, 'execution answered');
      return { kind: 'answered', slotId: slot, attempt, httpStatus: handed.httpStatus, executionStatus: handed.executionStatus };
    }
    ports.metrics.proxyError(handed.reason);
    if (handed.kind === 'failed') {
      // The job may have run. The registry knows: a worker starts a job only by using up the
      // lease's token. Giving the claim back succeeds only while the token is unused, and once
      // it has been given back, the worker can no longer start the job: then it never ran (a
      // kept-alive connection the worker closed just as it was reused, say) and may go
      // elsewhere. Otherwise it may have run: never again, and the slot is taken out.
      const neverStarted = await claims.release(lease).catch(() => false);
      if (!neverStarted) {
        await claims.markDead(lease).catch(() => undefined);
        log.error({ slot, reason: handed.reason }, 'worker failed after the job was handed over');
        return { kind: 'worker_failed', slotId: slot, reason: handed.reason };
      }
    }
    log.warn({ slot, reason: handed.reason, attempt }, 'slot did not take the job; trying another');
    if (handed.kind === 'not_started') {
      // A worker that refused the job never used the token: a dead slot is taken out; a live one
      // (busy still with the job before, say) is given back, or nothing would free it until the
      // claim ran out: the worker puts the slot back only under the token of the job it ran.
      if (handed.slotDead) await claims.markDead(lease).catch(() => undefined);
      else await claims.release(lease).catch(() => undefined);
    }
    if (attempt >= ctx.maxRetries) return { kind: 'unavailable', cause: 'retries', attempts: attempt + 1 };
  }
}
