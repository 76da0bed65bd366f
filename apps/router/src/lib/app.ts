import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { RouterConfig } from '@corral/config';
import { openApiDocument, runtimesAnswer, type PoolAnswer } from '@corral/contracts';
import type { Registry } from '@corral/registry';
import type { Logger } from '@corral/service';
import { errorAnswer, sendError } from './answers';
import type { KeyRing } from './auth';
import type { Background } from './background';
import { backgroundRoutes } from './background-routes';
import { compatRoutes } from './compat/routes';
import { executionRoute, type InFlightExecution } from './execution-route';
import type { RouterMetrics } from './metrics';
import { playgroundRoutes } from './playground';
import type { WorkerProxy } from './proxy';
import type { SlotQueue } from './slot-queue';
import { sseRoute } from './sse-route';
import type { StreamMetrics } from './stream-metrics';
import type { StreamProxy } from './stream-proxy';

export interface RouterDeps {
  /** Execution requests not yet answered (graceful shutdown answers what is left). */
  inFlight: Set<InFlightExecution>;
  config: Readonly<RouterConfig>;
  registry: Registry;
  queue: SlotQueue;
  proxy: WorkerProxy;
  metrics: RouterMetrics;
  log: Logger;
  keys: KeyRing;
  background: Background;
  /** Live executions (SSE, WebSocket): their hand-over and their metrics. */
  streams: { proxy: StreamProxy; metrics: StreamMetrics };
}

/** The router's own version, for the OpenAPI document. */
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The router's HTTP API (express 5: a rejected promise reaches the error handler). */
export function createApp(deps: RouterDeps): express.Express {
  const { config, registry, queue, proxy, metrics, log, inFlight, keys, background, streams } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const openApi = JSON.stringify(openApiDocument(config.limits, { version: VERSION, apiKeys: keys.enabled }));
  /** With API keys on, only a known key passes; a missing or wrong key ends here with 401. */
  const authenticate = (req: Request, _res: Response, next: NextFunction): void => {
    keys.identify(req.headers);
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
    else sendError(res, { code: 'unavailable', message: `No idle slot (${pool.total} slots: ${pool.busy} busy, ${pool.booting} booting, ${pool.dead} dead).` });
  });

  app.get('/v1/pool', authenticate, async (_req, res) => {
    const [pool, hosts] = await Promise.all([registry.slots.pool(), registry.liveness.hosts()]);
    const answer: PoolAnswer = { ...pool, queued: queue.length, hosts };
    res.json(answer);
  });

  app.get('/v1/runtimes', authenticate, async (_req, res) => {
    res.json(runtimesAnswer(await registry.liveness.hosts()));
  });

  app.post('/v1/executions', sseRoute({ config, registry, queue, streamProxy: streams.proxy, metrics, log, keys, streamMetrics: streams.metrics, background }));
  app.post('/v1/executions', executionRoute({ config, keys, registry, queue, proxy, metrics, log, inFlight, background }));
  backgroundRoutes(app, { config, keys, background });
  playgroundRoutes(app, { enabled: config.playground === 'on', apiKeys: keys.enabled, warn: (message) => log.warn(message) });
  compatRoutes(app, { config, registry, queue, proxy, metrics, log, keys, background });

  app.all('/v1/executions', (_req, res) => sendError(res, { code: 'method_not_allowed', message: 'Use POST /v1/executions.' }));
  app.use((_req, res) => sendError(res, { code: 'not_found' }));

  // The last word on every failure: a JSON error body, never an HTML page (express knows an
  // error handler by its four parameters, so `next` stays although it is not called).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, errorAnswer(err, log)));
  return app;
}
