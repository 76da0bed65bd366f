import { randomUUID } from 'node:crypto';
import type { ApiKey } from '@corral/config';
import { CorralError, type DeliveryAttempt, type DeliveryRecord, type ExecutionRecord } from '@corral/contracts';
import type { DeliveryEntry, JobQueues, QueueRunner } from '@corral/registry';
import type { KeyRing } from './auth';
import type { EngineDeps } from './engine';
import { postWebhook, signature, type WebhookPolicy } from './webhooks';

export const SIGNATURE_HEADER = 'x-corral-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** What a receiver gets: the final record, without the webhook's own (so every attempt sends the same bytes). */
export function webhookBody(record: ExecutionRecord): Buffer {
  const { webhook: _own, ...rest } = record;
  void _own;
  return Buffer.from(JSON.stringify(rest));
}

/**
 * How an adapter has the webhooks of its executions sent (Judge0: a PUT of its own view), from the
 * final record and the tag it kept on it; null: corral's record, POSTed.
 */
export type WebhookRenderer = (record: ExecutionRecord, tag: string) => Promise<{ method: 'POST' | 'PUT'; body: Buffer } | null>;

/**
 * Webhook deliveries: one per execution that has a callback, sent once it is final, signed,
 * retried with exponential backoff and jitter (BullMQ) until a 2xx or the last attempt, each
 * attempt recorded in the execution's record. The destination is checked again at every
 * attempt, after DNS.
 */
export class Deliveries {
  runner: QueueRunner | null = null;
  /** Set by an adapter whose executions' webhooks take its own shape. */
  renderer: WebhookRenderer | null = null;

  constructor(
    private readonly deps: EngineDeps & { keys: KeyRing; webhooks: WebhookPolicy },
    private readonly queues: JobQueues,
  ) {}

  /** A webhook's record before its first attempt. */
  pending(url: string): DeliveryRecord {
    return { url, deliveryId: randomUUID(), state: 'pending', attempts: [] };
  }

  /** Has the webhook of a final execution delivered. */
  async queue(executionId: string, webhook: DeliveryRecord, key: ApiKey | null): Promise<void> {
    const { attempts, backoffMs } = this.deps.config.webhooks;
    await this.queues.addDelivery({ executionId, deliveryId: webhook.deliveryId, url: webhook.url, keyName: key?.name ?? null }, { attempts, backoffMs });
  }

  start(): void {
    this.runner = this.queues.runDeliveries(
      (entry, attempt, last) => this.deliver(entry, attempt, last),
      { concurrency: 8, lockMs: Math.max(10_000, this.deps.config.webhooks.timeoutMs * 2), maxStalls: 3 },
      () => undefined, // every attempt is in the record already
    );
  }

  /** One attempt; throws when it failed, so that the queue retries it. */
  private async deliver(entry: DeliveryEntry, attempt: number, last: boolean): Promise<void> {
    const { registry, config, keys, webhooks, metrics, log } = this.deps;
    const owned = await registry.background.getOwned(entry.executionId);
    const record = owned?.record;
    if (!record?.webhook || record.webhook.deliveryId !== entry.deliveryId || record.webhook.state === 'delivered') return;
    const key = entry.keyName ? keys.byName(entry.keyName) : undefined;
    const secret = key?.webhookSecret ?? config.webhooks.secret;
    const tag = owned?.tag ?? null;
    const rendered = tag !== null && this.renderer ? await this.renderer(record, tag) : null;
    const body = rendered?.body ?? webhookBody(record);
    const at = new Date().toISOString();
    let outcome: Omit<DeliveryAttempt, 'attempt' | 'at'>;
    if (!secret) outcome = { httpStatus: null, ok: false, error: 'no webhook secret is configured any more', durationMs: 0 };
    else {
      try {
        const destination = await webhooks.destination(entry.url);
        outcome = await postWebhook(
          destination,
          body,
          {
            [SIGNATURE_HEADER]: signature(secret, body),
            [IDEMPOTENCY_HEADER]: entry.deliveryId,
            'x-corral-execution': entry.executionId,
            'x-corral-attempt': String(attempt),
            'user-agent': 'corral-webhook',
          },
          config.webhooks.timeoutMs,
          rendered?.method,
        );
      } catch (err) {
        if (!(err instanceof CorralError)) throw err;
        outcome = { httpStatus: null, ok: false, error: err.message, durationMs: 0 };
      }
    }
    const state = outcome.ok ? 'delivered' : last ? 'failed' : 'pending';
    await registry.background.setWebhook(entry.executionId, { ...record.webhook, state, attempts: [...record.webhook.attempts, { attempt, at, ...outcome }] });
    metrics.webhook(outcome.ok ? 'delivered' : last ? 'failed' : 'retried');
    if (!outcome.ok) {
      log.warn({ execution: entry.executionId, attempt, last, error: outcome.error }, 'webhook delivery failed');
      throw new Error(outcome.error ?? 'not delivered');
    }
  }
}
