import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ApiKey, RouterConfig } from '@corral/config';
import { CorralError, openApiDocument, parseExecutionRequest, STATUS_HEADER, type ErrorCode, type Job, type PoolAnswer } from '@corral/contracts';
import { RegistryUnavailableError, type Registry } from '@corral/registry';
import type { Logger } from '@corral/service';
import { KeyRing } from './auth';
import type { RouterMetrics } from './metrics';
import type { WorkerProxy } from './proxy';
import type { SlotQueue } from './slot-queue';

export interface RouterDeps {
  /** Responses of execution requests not yet finished (graceful shutdown answers what is left). */
  inFlight: Set<Response>;
  config: Readonly<RouterConfig>;
  registry: Registry;
  queue: SlotQueue;
  proxy: WorkerProxy;
  metrics: RouterMetrics;
  log: Logger;
}

/** Room left for the answer to travel once the job's own wall limit has passed. */
const ANSWER_GRACE_MS = 30_000;

/** Answers with a catalogue error (as JSON; a response already under way is cut instead). */
export function sendError(res: Response, code: ErrorCode, message?: string, headers: Record<string, string> = {}): void {
  res.locals['outcome'] = code;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const err = new CorralError(code, message);
  res.status(err.httpStatus).set(headers).json(err.toBody());
}

/** The router's own version, for the OpenAPI document. */
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

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
  const { config, registry, queue, proxy, metrics, log, inFlight } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const keys = new KeyRing(config.apiKeys);
  const openApi = JSON.stringify(openApiDocument(config.limits, { version: VERSION, apiKeys: keys.enabled }));
  /** With API keys on, who is asking; a missing or wrong key ends here with 401. */
  const authenticate = (req: Request, res: Response, next: NextFunction): void => {
    res.locals['key'] = keys.identify(req.headers);
    next();
  };

  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const pool = await registry.slots.pool();
    if (pool.idle > 0) res.json({ ready: true, idle: pool.idle, total: pool.total });
    else sendError(res, 'unavailable', `No idle slot (${pool.total} slots: ${pool.busy} busy, ${pool.booting} booting, ${pool.dead} dead).`);
  });

  app.get('/v1/pool', authenticate, async (_req, res) => {
    const answer: PoolAnswer = { ...(await registry.slots.pool()), queued: queue.length };
    res.json(answer);
  });

  const rawBody = express.raw({ type: () => true, limit: config.maxBodyBytes });

  app.post('/v1/executions', (_req, res, next) => {
    const started = performance.now();
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    // The outcome: an error code the router chose, else the status the worker sent along.
    res.once('finish', () =>
      metrics.finished(String(res.locals['outcome'] ?? res.getHeader(STATUS_HEADER) ?? res.statusCode), (performance.now() - started) / 1000),
    );
    next();
  });

  app.post('/v1/executions', authenticate, rawBody, async (req: Request, res: Response) => {
    const requestId = randomUUID();
    const key = res.locals['key'] as ApiKey | null;
    const reqLog = log.child({ requestId, ...(key ? { key: key.name } : {}) });
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

    if (key) {
      // Counted while it may wait and run; if this router dies, the count expires by itself.
      const holdMs = config.queueTimeoutMs + job.timeoutMs + ANSWER_GRACE_MS;
      const admission = await registry.admission.admit(key.name, requestId, { ratePerMinute: key.ratePerMinute, maxConcurrent: key.maxConcurrent, holdMs });
      if (!admission.admitted) {
        reqLog.warn({ limit: admission.limit }, 'API key over its limit');
        return admission.limit === 'rate'
          ? sendError(res, 'rate_limited', `API key "${key.name}" may send ${key.ratePerMinute} requests a minute.`, {
              'retry-after': String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000))),
            })
          : sendError(res, 'concurrency_limited', `API key "${key.name}" may have ${key.maxConcurrent} executions at once.`, { 'retry-after': '1' });
      }
      res.once('close', () => void registry.admission.release(key.name, requestId).catch((err: unknown) => reqLog.warn({ err }, 'releasing the key count failed')));
    }

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
        if (!(err instanceof CorralError)) {
          reqLog.warn({ err: (err as Error).message }, 'cannot reach the registry');
          return sendError(res, 'unavailable', 'The registry (Redis) cannot be reached; try again shortly.', { 'retry-after': '1' });
        }
        throw err;
      }
      if (gone.signal.aborted) {
        await registry.queue.release(lease);
        return;
      }
      if (attempt === 0) metrics.queueWait((Date.now() - arrived) / 1000);
      const outcome = await proxy.forward(req, res, lease, body, requestId, job.timeoutMs + ANSWER_GRACE_MS);
      const slot = lease.slotId;
      if (outcome.kind === 'answered') {
        reqLog.info({ slot, attempt, httpStatus: outcome.httpStatus, status: outcome.executionStatus, ms: Date.now() - arrived }, 'execution answered');
        return;
      }
      metrics.proxyError(outcome.reason);
      if (outcome.kind === 'failed') {
        // The job may have run. The registry knows: a worker starts a job only by using up the
        // lease's token. Giving the claim back succeeds only while the token is unused, and once
        // it has been given back, the worker can no longer start the job: then it never ran (a
        // kept-alive connection the worker closed just as it was reused, say) and may go
        // elsewhere. Otherwise it may have run: never again, and the slot is taken out.
        const neverStarted = await registry.queue.release(lease).catch(() => false);
        if (!neverStarted) {
          await registry.queue.markDead(lease).catch(() => undefined);
          reqLog.error({ slot, reason: outcome.reason }, 'worker failed after the job was handed over');
          return sendError(res, 'worker_failed', `The worker of slot ${slot} failed (${outcome.reason}) after the job was handed over; it was not retried.`);
        }
      }
      reqLog.warn({ slot, reason: outcome.reason, attempt }, 'slot did not take the job; trying another');
      if (outcome.kind === 'not_started' && outcome.slotDead) await registry.queue.markDead(lease).catch(() => undefined);
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
      res.locals['outcome'] = known.code;
      if (known.code === 'unauthorized') res.set('www-authenticate', 'Bearer');
      if (!res.headersSent) res.status(known.httpStatus).json(known.toBody());
      return;
    }
    if (err instanceof RegistryUnavailableError) {
      sendError(res, 'unavailable', 'The registry (Redis) cannot be reached; try again shortly.', { 'retry-after': '1' });
      return;
    }
    log.error({ err }, 'request failed');
    sendError(res, 'internal');
  });
  return app;
}
