import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { RouterConfig } from '@corral/config';
import { CorralError, parseExecutionRequest, type ErrorCode, type Job } from '@corral/contracts';
import type { Registry } from '@corral/registry';
import type { Logger } from '@corral/service';
import type { WorkerProxy } from './proxy';
import type { SlotQueue } from './slot-queue';

export interface RouterDeps {
  config: Readonly<RouterConfig>;
  registry: Registry;
  queue: SlotQueue;
  proxy: WorkerProxy;
  log: Logger;
}

/** Room left for the answer to travel once the job's own wall limit has passed. */
const ANSWER_GRACE_MS = 30_000;

function sendError(res: Response, code: ErrorCode, message?: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const err = new CorralError(code, message);
  res.status(err.httpStatus).set(headers).json(err.toBody());
}

/** body-parser's failures, as catalogue errors. */
function bodyError(err: { type?: string; status?: number; message?: string }): CorralError | null {
  switch (err.type) {
    case 'entity.too.large':
      return new CorralError('payload_too_large');
    case 'entity.parse.failed':
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new CorralError('invalid_request', err.message);
    case 'request.aborted':
    case 'request.size.invalid':
      return new CorralError('invalid_request', 'The request body was cut short.');
    default:
      return null;
  }
}

/** The router's HTTP API (express 5: a rejected promise reaches the error handler). */
export function createApp(deps: RouterDeps): express.Express {
  const { config, registry, queue, proxy, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const pool = await registry.pool();
    if (pool.idle > 0) res.json({ ready: true, idle: pool.idle, total: pool.total });
    else sendError(res, 'unavailable', `No idle slot (${pool.total} slots: ${pool.busy} busy, ${pool.booting} booting, ${pool.dead} dead).`);
  });

  app.get('/v1/pool', async (_req, res) => {
    const pool = await registry.pool();
    res.json({ ...pool, queued: queue.length });
  });

  const rawBody = express.raw({ type: () => true, limit: config.maxBodyBytes });

  app.post('/v1/executions', rawBody, async (req: Request, res: Response) => {
    const requestId = randomUUID();
    const reqLog = log.child({ requestId });
    const arrived = Date.now();
    res.set('x-request-id', requestId);

    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
    } catch {
      return sendError(res, 'invalid_json', 'The request body is not valid JSON (send a JSON object with at least "code").');
    }
    const job: Job = parseExecutionRequest(parsed, config.limits);
    const body = Buffer.from(JSON.stringify(job));

    // Whoever leaves first (the client, or the answer being sent) ends the wait.
    const gone = new AbortController();
    res.once('close', () => gone.abort(new Error('client went away')));

    const deadline = arrived + config.queueTimeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      let lease;
      try {
        lease = await queue.acquire(requestId, deadline, gone.signal);
      } catch (err) {
        if (gone.signal.aborted) return;
        if (err instanceof CorralError && err.code === 'no_capacity') {
          reqLog.warn({ waitedMs: Date.now() - arrived }, 'no slot within the queue deadline');
          return sendError(res, 'no_capacity', undefined, { 'retry-after': '1' });
        }
        throw err;
      }
      if (gone.signal.aborted) {
        await registry.releaseClaim(lease);
        return;
      }
      const outcome = await proxy.forward(req, res, lease, body, requestId, job.timeoutMs + ANSWER_GRACE_MS);
      const slot = lease.slotId;
      if (outcome.kind === 'answered') {
        reqLog.info({ slot, attempt, httpStatus: outcome.httpStatus, status: outcome.executionStatus, ms: Date.now() - arrived }, 'execution answered');
        return;
      }
      if (outcome.kind === 'failed') {
        reqLog.error({ slot, reason: outcome.reason }, 'worker failed after the job was handed over');
        return sendError(res, 'worker_failed', `The worker of slot ${slot} failed (${outcome.reason}) after the job was handed over; it was not retried.`);
      }
      reqLog.warn({ slot, reason: outcome.reason, attempt }, 'slot did not take the job; trying another');
      if (outcome.slotDead) await registry.markDead(lease);
      if (attempt >= config.maxRetries) {
        return sendError(res, 'unavailable', `${attempt + 1} slots in a row could not take the job; try again later.`, { 'retry-after': '1' });
      }
    }
  });

  app.all('/v1/executions', (_req, res) => sendError(res, 'method_not_allowed', 'Use POST /v1/executions.'));
  app.use((_req, res) => sendError(res, 'not_found'));

  // The last word on every failure: a JSON error body, never an HTML page (express knows an
  // error handler by its four parameters, so `next` stays although it is not called).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const known = err instanceof CorralError ? err : bodyError(err as { type?: string });
    if (known) {
      if (!res.headersSent) res.status(known.httpStatus).json(known.toBody());
      return;
    }
    log.error({ err }, 'request failed');
    sendError(res, 'internal');
  });
  return app;
}
