import type { ErrorCode, ExecutionRecord, ExecutionState, SubmissionResult } from '@corral/contracts';
import type { FacetDeps } from './deps';

/** How taking up a background execution went (startExecution-1.lua). */
export type StartOutcome = { kind: 'started'; attempts: number } | { kind: 'final' } | { kind: 'missing' };

/** How a cancel went (cancelExecution-1.lua). */
export type CancelOutcome = { kind: 'cancelled' } | { kind: 'requested' } | { kind: 'final'; state: ExecutionState } | { kind: 'missing' };

/** A final answer: the result, or the error that kept it from running. */
export type FinalAnswer = { result: SubmissionResult } | { error: { code: ErrorCode; message: string } };

export interface NewRecord {
  createdAt: Date;
  /** The API key it belongs to (only it may read or cancel it); null when keys are off. */
  keyName: string | null;
  /** How long the record is kept before it ends (it is kept `resultTtlMs` after it ends). */
  ttlMs: number;
  batchId?: string;
  /** The webhook's record, when the submission has a callback. */
  webhook?: ExecutionRecord['webhook'];
  /** Made final at once (a blocking submission with a callback): its state and answer. */
  final?: { state: 'done'; answer: FinalAnswer };
  /** An adapter's own note on the execution (a compat API's request fields), kept as it is and never read by corral. */
  tag?: string;
}

const STATES = new Set<string>(['queued', 'running', 'done', 'cancelled']);

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** An execution record from its HASH fields; null when there is none. */
export function toExecutionRecord(id: string, f: Record<string, string>): ExecutionRecord | null {
  if (!f['state'] || !STATES.has(f['state']) || !f['createdAt']) return null;
  const record: ExecutionRecord = { id, state: f['state'] as ExecutionState, createdAt: f['createdAt'], attempts: Number(f['attempts'] ?? 0) };
  if (f['startedAt']) record.startedAt = f['startedAt'];
  if (f['finishedAt']) record.finishedAt = f['finishedAt'];
  const result = parseJson<SubmissionResult>(f['result']);
  if (result) record.result = result;
  const error = parseJson<ExecutionRecord['error']>(f['error']);
  if (error) record.error = error;
  const webhook = parseJson<ExecutionRecord['webhook']>(f['webhook']);
  if (webhook) record.webhook = webhook;
  if (f['batchId']) record.batchId = f['batchId'];
  return record;
}

/**
 * Executions kept in the background, and batches: their records, whose state changes only
 * through the three scripts (so an execution gets exactly one final state), and the cancel
 * channel every router hears (router).
 */
export class BackgroundRecords {
  constructor(private readonly d: FacetDeps) {}

  /** Writes a new record: queued, or already final. */
  async create(id: string, r: NewRecord): Promise<void> {
    const fields: string[] = ['state', r.final?.state ?? 'queued', 'createdAt', r.createdAt.toISOString(), 'attempts', r.final ? '1' : '0'];
    if (r.batchId) fields.push('batchId', r.batchId);
    if (r.keyName !== null) fields.push('keyName', r.keyName);
    if (r.webhook) fields.push('webhook', JSON.stringify(r.webhook));
    if (r.tag !== undefined) fields.push('tag', r.tag);
    if (r.final) {
      const now = new Date().toISOString();
      fields.push('startedAt', r.createdAt.toISOString(), 'finishedAt', now);
      fields.push(...('result' in r.final.answer ? ['result', JSON.stringify(r.final.answer.result)] : ['error', JSON.stringify(r.final.answer.error)]));
    }
    const key = this.d.keys.execution(id);
    await this.d.connection.run((redis) => redis.multi().hset(key, ...fields).pexpire(key, r.ttlMs).exec());
  }

  /** A router takes up the execution (one attempt more), unless it was cancelled or has ended. */
  async start(id: string): Promise<StartOutcome> {
    const { code, attempts } = await this.d.scripts.startExecution(this.d.keys.execution(id));
    if (code === 'OK') return { kind: 'started', attempts };
    return { kind: code === 'FINAL' ? 'final' : 'missing' };
  }

  /** Its job is about to be handed over: it runs from now, unless a cancel came first (then false: do not hand it over). */
  async handOver(id: string): Promise<boolean> {
    return (await this.d.scripts.handOverExecution(this.d.keys.execution(id), new Date().toISOString())) === 'OK';
  }

  /** Makes the execution final (cancelled: with no answer); false when it was already (then nothing changed). */
  async finish(id: string, state: 'done' | 'cancelled', answer: FinalAnswer | null, keepMs: number): Promise<boolean> {
    const [field, value] = answer === null ? ['', null] : 'result' in answer ? ['result', answer.result] : ['error', answer.error];
    const code = await this.d.scripts.finishExecution(this.d.keys.execution(id), state, field, value === null ? '' : JSON.stringify(value), new Date().toISOString(), keepMs);
    return code === 'OK';
  }

  /** Cancels a queued execution, or tells the router running it to stop it. */
  async cancel(id: string, keepMs: number): Promise<CancelOutcome> {
    const { code, state } = await this.d.scripts.cancelExecution(this.d.keys.execution(id), new Date().toISOString(), keepMs, this.d.keys.cancels, id);
    if (code === 'CANCEL_REQUESTED') return { kind: 'requested' };
    if (code === 'CANCELLED') return { kind: 'cancelled' };
    if (code === 'FINAL') return { kind: 'final', state: state as ExecutionState };
    return { kind: 'missing' };
  }

  /** Whether a cancel was asked for (a runner checks before it hands the job over). */
  async cancelRequested(id: string): Promise<boolean> {
    return (await this.d.connection.run((redis) => redis.hget(this.d.keys.execution(id), 'cancelRequested'))) === '1';
  }

  async get(id: string): Promise<ExecutionRecord | null> {
    return (await this.getOwned(id))?.record ?? null;
  }

  /** The record, the API key it belongs to (null: keys were off) and its tag (null: none). */
  async getOwned(id: string): Promise<{ record: ExecutionRecord; keyName: string | null; tag: string | null } | null> {
    const fields = await this.d.connection.run((redis) => redis.hgetall(this.d.keys.execution(id)));
    const record = toExecutionRecord(id, fields);
    return record ? { record, keyName: fields['keyName'] ?? null, tag: fields['tag'] ?? null } : null;
  }

  async getMany(ids: readonly string[]): Promise<(ExecutionRecord | null)[]> {
    if (ids.length === 0) return [];
    const replies = await this.d.connection.run((redis) => {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.d.keys.execution(id));
      return pipeline.exec();
    });
    return ids.map((id, i) => toExecutionRecord(id, (replies?.[i]?.[1] ?? {}) as Record<string, string>));
  }

  /** Replaces the webhook's record (its delivery runner is its only writer); nothing when the execution is gone. */
  async setWebhook(id: string, webhook: NonNullable<ExecutionRecord['webhook']>): Promise<void> {
    await this.d.scripts.setWebhook(this.d.keys.execution(id), JSON.stringify(webhook));
  }

  async createBatch(id: string, members: readonly string[], createdAt: Date, ttlMs: number, keyName: string | null): Promise<void> {
    const key = this.d.keys.batch(id);
    const fields = ['createdAt', createdAt.toISOString(), 'members', JSON.stringify(members), ...(keyName === null ? [] : ['keyName', keyName])];
    await this.d.connection.run((redis) => redis.multi().hset(key, ...fields).pexpire(key, ttlMs).exec());
  }

  async getBatch(id: string): Promise<{ createdAt: string; members: string[]; keyName: string | null } | null> {
    const f = await this.d.connection.run((redis) => redis.hgetall(this.d.keys.batch(id)));
    const members = parseJson<string[]>(f['members']);
    return f['createdAt'] && members ? { createdAt: f['createdAt'], members, keyName: f['keyName'] ?? null } : null;
  }

  /** Hears every cancel of a running execution (each router stops the ones it runs). */
  onCancel(listener: (id: string) => void): Promise<() => Promise<void>> {
    return this.d.connection.listen(this.d.keys.cancels, (message) => {
      const [verb, id] = message.split(' ');
      if (verb === 'cancel' && id) listener(id);
    });
  }
}
