import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiKey, RouterConfig } from '@corral/config';
import { ERROR_CATALOGUE, isErrorCode, type ErrorCode, type ExecutionResult, type Job } from '@corral/contracts';
import type { AdmissionUsage, Registry } from '@corral/registry';
import type { Logger } from '@corral/service';
import { outcomeAnswer } from './answers';
import { dispatchExecution, type DispatchOutcome } from './dispatch';
import type { RouterMetrics } from './metrics';
import type { CollectedAttempt, WorkerProxy } from './proxy';
import type { SlotQueue } from './slot-queue';

/** What the router's own executions (tests, background work) are run with. */
export interface EngineDeps {
  config: Readonly<RouterConfig>;
  registry: Registry;
  queue: SlotQueue;
  proxy: WorkerProxy;
  metrics: RouterMetrics;
  log: Logger;
}

/** How one of the router's own executions ended. */
export type RunOutcome =
  | { kind: 'result'; result: ExecutionResult; attempts: number }
  /** It could not be run: the error says why (no slot in time, its worker failed every time…). */
  | { kind: 'not_run'; error: { code: ErrorCode; message: string }; attempts: number }
  /** Its signal was aborted (the client left, a cancel, the router shutting down). */
  | { kind: 'stopped'; shuttingDown: boolean };

export interface RunOptions {
  key: ApiKey | null;
  signal: AbortSignal;
  /**
   * `deadline`: a client waits; waiting for a slot gives up after the queue deadline, as for
   * any request. `patient`: background work; it waits until there is a slot (or a stop).
   * `none`: a client's own blocking call (the compat APIs): a full queue or a key at its limit
   * ends it at once, as POST /v1/executions answers them.
   */
  patience: 'deadline' | 'patient' | 'none';
  /** How many times it may be started when its worker fails under it (it has no effect outside its sandbox). */
  attempts: number;
  log: Logger;
  /** The result's id (and the hand-over's request id); a new one per attempt when not given. */
  requestId?: string;
  /** Asked right before each hand-over, once a slot is held: false stops it there (a cancel came first), and the job never runs. */
  beforeHandOver?: () => Promise<boolean>;
  /** Idle slots its claims leave to clients' own requests (background work: tests, async jobs). */
  reserve?: number;
  /** What the key's admission counts; by default a place in flight alone (the submission was counted when accepted). */
  usage?: AdmissionUsage;
}

/** Endings worth another try after a pause: nothing ran. */
const BUSY = new Set<DispatchOutcome['kind']>(['no_capacity', 'queue_full', 'concurrency_limited', 'unavailable', 'rate_limited']);
const PAUSE_MS = 200;

/** What the worker answered, read as a result, or as the error about the job it was. */
function readAnswer(attempt: Extract<CollectedAttempt, { kind: 'answered' }> & { body: unknown }): RunOutcome | null {
  const body = attempt.body as Record<string, unknown> | null;
  if (attempt.httpStatus === 200) {
    if (body && typeof body['status'] === 'string' && typeof body['stdout'] === 'string' && typeof body['stderr'] === 'string') {
      return { kind: 'result', result: body as unknown as ExecutionResult, attempts: 0 };
    }
    return { kind: 'not_run', error: { code: 'worker_failed', message: 'The worker answered what is not a result.' }, attempts: 0 };
  }
  const error = (body?.['error'] ?? {}) as { code?: unknown; message?: unknown };
  const code = isErrorCode(error.code) ? error.code : 'worker_failed';
  return { kind: 'not_run', error: { code, message: typeof error.message === 'string' ? error.message : `The worker answered ${attempt.httpStatus}.` }, attempts: 0 };
}

/**
 * Runs one job through the one dispatch (admission, the shared queue, the claim, the hand-over,
 * a retry only if it never started) and reads its result whole, for the router's own use. A
 * submission's executions were counted against the key's rate when it was accepted, so each
 * takes only a place in flight. A worker that fails after the hand-over is retried on another
 * slot up to `attempts` times: the job has no effect outside its sandbox, so running it again
 * changes nothing but the time (unlike the blocking call, where the client decides).
 */
export async function runOne(job: Job, deps: EngineDeps, options: RunOptions): Promise<RunOutcome> {
  const { config, registry, queue, proxy, metrics } = deps;
  const body = Buffer.from(JSON.stringify(job));
  let started = 0;
  let firstTryAt = Date.now();
  for (;;) {
    if (options.signal.aborted) return { kind: 'stopped', shuttingDown: false };
    const requestId = options.requestId ?? randomUUID();
    let collected: CollectedAttempt | null = null;
    const outcome = await dispatchExecution(job, {
      requestId,
      key: options.key,
      arrivedAt: Date.now(),
      signal: options.signal,
      handOver: async (lease, timeoutMs) => {
        // Not handed over: to dispatch, as if the client had gone (the unused claim is given back).
        if (options.beforeHandOver && !(await options.beforeHandOver())) return { kind: 'client_gone' };
        collected = await proxy.collect(lease, body, requestId, timeoutMs, options.signal);
        return collected;
      },
      queueTimeoutMs: config.queueTimeoutMs,
      maxRetries: config.maxRetries,
      ports: { admission: registry.admission, slots: queue, claims: registry.queue, metrics, clock: Date, log: options.log.child({ requestId }) },
      usage: options.usage ?? { rate: 0, inFlight: true },
      reserve: options.reserve ?? 0,
    });
    const answered = collected as CollectedAttempt | null;
    if (outcome.kind === 'answered' && answered?.kind === 'answered' && 'body' in answered) {
      const read = readAnswer(answered);
      if (read) return { ...read, attempts: started + 1 } as RunOutcome;
    }
    if (outcome.kind === 'client_gone') return { kind: 'stopped', shuttingDown: false };
    if (outcome.kind === 'shutting_down') return { kind: 'stopped', shuttingDown: true };
    if (outcome.kind === 'worker_failed' || outcome.kind === 'answered') {
      started += 1;
      if (started < options.attempts) {
        options.log.warn({ attempt: started, slot: outcome.kind === 'worker_failed' ? outcome.slotId : undefined }, 'the worker failed under a job; running it again');
        continue;
      }
      const answer = outcomeAnswer(outcome);
      return { kind: 'not_run', error: { code: 'worker_failed', message: answer?.message ?? 'The worker failed under the job every time it was run.' }, attempts: started };
    }
    const waited = Date.now() - firstTryAt;
    if (BUSY.has(outcome.kind) && options.patience !== 'none' && (options.patience === 'patient' || waited < config.queueTimeoutMs)) {
      // No slot in time, a key at its concurrency, Redis away: nothing ran; wait a little.
      if (outcome.kind === 'no_capacity' && options.patience === 'deadline') return notRun(outcome, started);
      try {
        await sleep(PAUSE_MS, undefined, { signal: options.signal });
      } catch {
        return { kind: 'stopped', shuttingDown: false };
      }
      if (outcome.kind === 'no_capacity') firstTryAt = Date.now();
      continue;
    }
    return notRun(outcome, started);
  }
}

function notRun(outcome: DispatchOutcome, attempts: number): RunOutcome {
  const answer = outcomeAnswer(outcome);
  const code = answer?.code ?? 'internal';
  return { kind: 'not_run', error: { code, message: answer?.message ?? ERROR_CATALOGUE[code].message }, attempts };
}
