import { randomUUID } from 'node:crypto';
import type { ApiKey } from '@corral/config';
import {
  CorralError,
  executionCount,
  type BatchAccepted,
  type BatchRecord,
  type ExecutionRecord,
  type ExecutionState,
  type Submission,
  type SubmissionResult,
} from '@corral/contracts';
import { RegistryUnavailableError, type ExecutionEntry, type FinalAnswer, type JobQueues, type QueueRunner } from '@corral/registry';
import type { Logger } from '@corral/service';
import type { KeyRing } from './auth';
import { Deliveries, type WebhookRenderer } from './deliveries';
import { runOne, type EngineDeps, type RunOutcome } from './engine';
import { runTests, testParallelism, type TestRun } from './tests-runner';
import type { WebhookPolicy } from './webhooks';

/** A queued record is kept this much longer than a finished one: the time it may wait for a slot. */
const QUEUED_EXTRA_MS = 24 * 3600 * 1000;
/** How long the live-slot count used for test parallelism is reused. */
const POOL_CACHE_MS = 1000;

export interface BackgroundDeps extends EngineDeps {
  keys: KeyRing;
  webhooks: WebhookPolicy;
}

/** How a submission run while its client waits ended: its answer, or why it has none. */
export type WaitedAnswer = { kind: 'answer'; result: SubmissionResult } | { kind: 'error'; error: CorralError } | { kind: 'stopped' };

/**
 * Submissions beyond one blocking execution: tests (each test an execution of its own), work
 * kept in the background (`wait: false`, batches: durable entries any router takes up, with one
 * final state each), cancels, and webhooks. Every execution goes through the one dispatch.
 */
export class Background {
  private runner: QueueRunner | null = null;
  private stopListening: (() => Promise<void>) | null = null;
  private readonly deliveries: Deliveries;
  private livePool: { slots: number; at: number } | null = null;

  constructor(
    private readonly deps: BackgroundDeps,
    private readonly queues: JobQueues,
  ) {
    this.deliveries = new Deliveries(deps, queues);
  }

  private get keepMs(): number {
    return this.deps.config.background.resultTtlS * 1000;
  }

  /** Has the webhooks of an adapter's (tagged) executions take the adapter's shape. */
  renderWebhooks(renderer: WebhookRenderer): void {
    this.deliveries.renderer = renderer;
  }

  /** Takes up background executions and deliveries on this router; hears cancels. */
  async start(): Promise<void> {
    const { config, log } = this.deps;
    const options = { concurrency: config.background.concurrency, lockMs: config.background.lockMs, maxStalls: config.background.attempts };
    this.runner = this.queues.runExecutions((entry, signal) => this.process(entry, signal), options, (entry, reason) => {
      void this.finish(entry.id, 'done', { error: { code: 'internal', message: `It could not be run: ${reason}.` } }, entry.keyName);
    });
    this.deliveries.start();
    this.stopListening = await this.deps.registry.background.onCancel((id) => {
      if (this.runner?.cancel(id)) log.info({ execution: id }, 'cancelling a running background execution');
    });
  }

  /** A callback's destination is allowed and a secret signs it. @throws CorralError callback_refused */
  async checkCallback(submission: Submission, key: ApiKey | null): Promise<void> {
    if (!submission.callbackUrl) return;
    if (!key?.webhookSecret && !this.deps.config.webhooks.secret) throw new CorralError('callback_refused', 'No webhook secret is configured (CORRAL_WEBHOOK_SECRET, or the API key\'s webhookSecret): callbacks are off.');
    await this.deps.webhooks.destination(submission.callbackUrl);
  }

  /** Counts `count` executions against the key's rate, or refuses them all. @throws CorralError rate_limited */
  private async admit(key: ApiKey | null, count: number): Promise<void> {
    if (!key) return;
    const admission = await this.deps.registry.admission.admit(key.name, randomUUID(), { ratePerMinute: key.ratePerMinute, maxConcurrent: key.maxConcurrent, holdMs: 1 }, { rate: count, inFlight: false });
    if (!admission.admitted) {
      throw new CorralError('rate_limited', `API key "${key.name}" may send ${key.ratePerMinute} executions a minute; this submission holds ${count}.`, { retryAfterMs: admission.retryAfterMs });
    }
  }

  /**
   * `wait: false`: kept in Redis and queued; answered 202 with its id. `tag` is kept on its record
   * for an adapter (see `getTagged`). @throws CorralError, RegistryUnavailableError
   */
  async accept(submission: Submission, key: ApiKey | null, tag?: string): Promise<string> {
    await this.checkCallback(submission, key);
    await this.admit(key, executionCount(submission));
    const id = randomUUID();
    await this.enqueue([{ id, submission, ...(tag === undefined ? {} : { tag }) }], key, undefined);
    return id;
  }

  /** `POST /v1/batches`: every member kept and queued, or none. @throws CorralError, RegistryUnavailableError */
  async acceptBatch(submissions: readonly Submission[], key: ApiKey | null, tags?: readonly string[]): Promise<BatchAccepted> {
    for (const s of submissions) await this.checkCallback(s, key);
    await this.admit(key, submissions.reduce((n, s) => n + executionCount(s), 0));
    const batchId = randomUUID();
    const members = submissions.map((submission, i) => ({ id: randomUUID(), submission, ...(tags?.[i] === undefined ? {} : { tag: tags[i] }) }));
    await this.deps.registry.background.createBatch(
      batchId,
      members.map((m) => m.id),
      new Date(),
      this.keepMs + QUEUED_EXTRA_MS,
      key?.name ?? null,
    );
    await this.enqueue(members, key, batchId);
    return { id: batchId, executions: members.map((m) => m.id) };
  }

  private async enqueue(members: readonly { id: string; submission: Submission; tag?: string }[], key: ApiKey | null, batchId: string | undefined): Promise<void> {
    const { background } = this.deps.registry;
    const createdAt = new Date();
    for (const { id, submission, tag } of members) {
      await background.create(id, {
        createdAt,
        keyName: key?.name ?? null,
        ttlMs: this.keepMs + QUEUED_EXTRA_MS,
        ...(batchId ? { batchId } : {}),
        ...(tag === undefined ? {} : { tag }),
        ...(submission.callbackUrl ? { webhook: this.deliveries.pending(submission.callbackUrl) } : {}),
      });
    }
    const entries: ExecutionEntry[] = members.map(({ id, submission }) => ({ id, submission: JSON.stringify(submission), keyName: key?.name ?? null }));
    await this.queues.addExecutions(entries);
  }

  /**
   * Runs a submission while its client waits: its tests, or one execution whose record a callback
   * needs. With a `tag` (an adapter's), its final record is kept, tagged, even without a callback;
   * with a `testRun` (a live stream's), each test runs through it.
   */
  async runWaited(submission: Submission, key: ApiKey | null, signal: AbortSignal, log: Logger, options: { tag?: string; testRun?: TestRun } = {}): Promise<WaitedAnswer> {
    const { tag, testRun } = options;
    try {
      await this.checkCallback(submission, key);
      await this.admit(key, executionCount(submission));
    } catch (err) {
      if (err instanceof CorralError) return { kind: 'error', error: err };
      throw err;
    }
    const id = randomUUID();
    // The blocking call's rule holds: a job whose worker failed under it is not run again.
    const outcome = await this.run(id, submission, key, signal, log, 'deadline', submission.tests ? this.deps.config.background.attempts : 1, undefined, testRun);
    if (outcome.kind === 'stopped') return { kind: 'stopped' };
    if (submission.callbackUrl) {
      const answer: FinalAnswer = outcome.kind === 'result' ? { result: outcome.result } : { error: outcome.error };
      const webhook = this.deliveries.pending(submission.callbackUrl);
      await this.deps.registry.background.create(id, { createdAt: new Date(), keyName: key?.name ?? null, ttlMs: this.keepMs, webhook, final: { state: 'done', answer }, ...(tag === undefined ? {} : { tag }) });
      await this.deliveries.queue(id, webhook, key);
    } else if (tag !== undefined) {
      await this.keep(id, key, outcome.kind === 'result' ? { result: outcome.result } : { error: outcome.error }, tag);
    }
    if (outcome.kind === 'result') return { kind: 'answer', result: outcome.result };
    return { kind: 'error', error: new CorralError(outcome.error.code, outcome.error.message) };
  }

  /** Live slots (idle, busy or booting), read at most once a second. */
  private async liveSlots(): Promise<number> {
    const now = Date.now();
    if (!this.livePool || now - this.livePool.at > POOL_CACHE_MS) {
      const pool = await this.deps.registry.slots.pool();
      this.livePool = { slots: pool.total - pool.dead, at: now };
    }
    return this.livePool.slots;
  }

  /** One submission's run: its tests, or its one execution. */
  private async run(
    id: string,
    submission: Submission,
    key: ApiKey | null,
    signal: AbortSignal,
    log: Logger,
    patience: 'deadline' | 'patient',
    attempts: number,
    beforeHandOver?: () => Promise<boolean>,
    testRun?: TestRun,
  ): Promise<{ kind: 'result'; result: SubmissionResult } | Exclude<RunOutcome, { kind: 'result' }>> {
    // Background work leaves one warm slot to clients' own requests whenever the pool has two.
    const reserve = (await this.liveSlots()) >= 2 ? 1 : 0;
    const options = { key, signal, patience, attempts, reserve, log: log.child({ execution: id }), ...(beforeHandOver ? { beforeHandOver } : {}) };
    if (!submission.tests) {
      const outcome = await runOne(submission.job, this.deps, { ...options, requestId: id });
      return outcome;
    }
    const parallelism = testParallelism(this.deps.config.background.testParallelism, await this.liveSlots(), submission.tests.length);
    const result = await runTests(id, { ...submission, tests: submission.tests }, this.deps, {
      ...options,
      parallelism,
      onTest: (test) => this.deps.metrics.verdict(test.status),
      ...(testRun ? { run: testRun } : {}),
    });
    return result ? { kind: 'result', result } : { kind: 'stopped', shuttingDown: false };
  }

  /** A background execution, on the router that took it up. */
  private async process(entry: ExecutionEntry, signal: AbortSignal): Promise<'done' | 'give_back'> {
    const { registry, keys, config, log } = this.deps;
    const started = await registry.background.start(entry.id);
    if (started.kind !== 'started') return 'done';
    const key = entry.keyName ? (keys.byName(entry.keyName) ?? null) : null;
    if (entry.keyName && !key) {
      await this.finish(entry.id, 'done', { error: { code: 'unauthorized', message: `The API key "${entry.keyName}" is no longer configured.` } }, entry.keyName);
      return 'done';
    }
    if (started.attempts > config.background.attempts) {
      await this.finish(entry.id, 'done', { error: { code: 'worker_failed', message: `Started ${started.attempts - 1} times; the router or worker running it died each time.` } }, entry.keyName);
      return 'done';
    }
    const submission = JSON.parse(entry.submission) as Submission;
    const outcome = await this.run(entry.id, submission, key, signal, log, 'patient', config.background.attempts - started.attempts + 1, () =>
      registry.background.handOver(entry.id),
    );
    if (outcome.kind === 'stopped') {
      // Cancelled while queued (the record says so already) or while running (this records it).
      if (await registry.background.cancelRequested(entry.id)) {
        await this.finish(entry.id, 'cancelled', null, entry.keyName);
        return 'done';
      }
      // This router stops before the job was handed over: another takes it up.
      return 'give_back';
    }
    const answer: FinalAnswer = outcome.kind === 'result' ? { result: outcome.result } : { error: outcome.error };
    await this.finish(entry.id, 'done', answer, entry.keyName);
    return 'done';
  }

  /** Makes the record final and, the first time only, has its webhook delivered. */
  private async finish(id: string, state: 'done' | 'cancelled', answer: FinalAnswer | null, keyName: string | null): Promise<void> {
    try {
      if (await this.deps.registry.background.finish(id, state, answer, this.keepMs)) await this.afterFinal(id, keyName);
    } catch (err) {
      this.deps.log.error({ err, execution: id }, 'recording the end of a background execution failed');
    }
  }

  private async afterFinal(id: string, keyName: string | null): Promise<void> {
    const record = await this.deps.registry.background.get(id);
    if (record?.webhook) await this.deliveries.queue(id, record.webhook, keyName ? (this.deps.keys.byName(keyName) ?? null) : null);
  }

  /**
   * The record, when it belongs to `key` (with keys on, a key sees only its own executions; an
   * execution of another key is answered as one that does not exist).
   */
  async get(id: string, key: ApiKey | null): Promise<ExecutionRecord | null> {
    const owned = await this.deps.registry.background.getOwned(id);
    return owned && owned.keyName === (key?.name ?? null) ? owned.record : null;
  }

  /** The record and the tag an adapter kept on it, when it belongs to `key` (as `get`). */
  async getTagged(id: string, key: ApiKey | null): Promise<{ record: ExecutionRecord; tag: string | null } | null> {
    const owned = await this.deps.registry.background.getOwned(id);
    return owned && owned.keyName === (key?.name ?? null) ? { record: owned.record, tag: owned.tag } : null;
  }

  /**
   * Keeps the final record of an execution a client waited for (a compat API's, whose token may be
   * read again later), with an adapter's tag; it has no webhook. @throws RegistryUnavailableError
   */
  async keep(id: string, key: ApiKey | null, answer: FinalAnswer, tag: string): Promise<void> {
    await this.deps.registry.background.create(id, { createdAt: new Date(), keyName: key?.name ?? null, ttlMs: this.keepMs, final: { state: 'done', answer }, tag });
  }

  /** Cancels: a queued execution never starts, a running one is stopped. @throws CorralError not_found */
  async cancel(id: string, key: ApiKey | null): Promise<ExecutionRecord> {
    const missing = new CorralError('not_found', `No execution ${id}.`);
    if (!(await this.get(id, key))) throw missing;
    const outcome = await this.deps.registry.background.cancel(id, this.keepMs);
    if (outcome.kind === 'missing') throw missing;
    if (outcome.kind === 'cancelled') {
      await this.queues.removeQueued(id);
      await this.afterFinal(id, key?.name ?? null);
    }
    const record = await this.get(id, key);
    if (!record) throw missing;
    return record;
  }

  async getBatch(id: string, key: ApiKey | null): Promise<BatchRecord | null> {
    const batch = await this.deps.registry.background.getBatch(id);
    if (!batch || batch.keyName !== (key?.name ?? null)) return null;
    const executions = (await this.deps.registry.background.getMany(batch.members)).filter((r): r is ExecutionRecord => r !== null);
    const states: Record<ExecutionState, number> = { queued: 0, running: 0, done: 0, cancelled: 0 };
    for (const r of executions) states[r.state] += 1;
    return { id, createdAt: batch.createdAt, executions, states };
  }

  /** Queue depths for /metrics. */
  counts(): ReturnType<JobQueues['counts']> {
    return this.queues.counts();
  }

  /** Stops taking up work; what runs on a worker finishes within `graceMs`, what waits for a slot is given back. */
  async close(graceMs: number): Promise<void> {
    await this.stopListening?.().catch(() => undefined);
    const runners = [this.runner, this.deliveries.runner].filter((r): r is QueueRunner => r !== null);
    const graceful = Promise.all(runners.map((r) => r.close()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([graceful.then(() => 'ok' as const), late])) === 'late') await Promise.all(runners.map((r) => r.close(true)));
    clearTimeout(timer);
    await this.queues.close().catch((err: unknown) => {
      if (!(err instanceof RegistryUnavailableError)) throw err;
    });
  }
}

