import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouterConfig } from '@corral/config';
import { Registry } from '@corral/registry';
import { runLoop, type Logger, type Running } from '@corral/service';
import { createApp } from './app';
import { KeyRing } from './auth';
import { Background } from './background';
import { answerClientErrors } from './client-errors';
import type { InFlightExecution } from './execution-route';
import { createMetrics } from './metrics';
import { WorkerProxy } from './proxy';
import { SlotQueue } from './slot-queue';
import { createStreamMetrics } from './stream-metrics';
import { StreamProxy } from './stream-proxy';
import { WebhookPolicy } from './webhooks';
import { attachStreamSocket } from './ws-route';
import { RuntimeVersion } from './compat/runtimes';

/** How often expired claims are looked for (a claim's lease is CORRAL_CLAIM_TTL_MS, 15 s by default). */
const RECLAIM_EVERY_MS = 1000;

export interface RouterHandle extends Running {
  /** Where the API listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
}

/** Starts the router: Redis, the idle-event subscription, the HTTP API. */
export async function startRouter(config: Readonly<RouterConfig>, log: Logger): Promise<RouterHandle> {
  const registry = await Registry.connect({
    redis: config.redis,
    prefix: config.redisPrefix,
    onError: (err) => log.warn({ err: err.message }, 'redis connection error'),
  });
  const routerId = randomUUID();
  const queue = new SlotQueue({
    store: registry.queue,
    routerId,
    claimTtlMs: config.claimTtlMs,
    maxQueue: config.maxQueue,
    onError: (err) => log.warn({ err }, 'the slot queue could not reach Redis'),
  });
  const unsubscribe = await registry.queue.subscribe(routerId, (ticket) => queue.onAssigned(ticket));
  const proxy = new WorkerProxy();
  const metrics = createMetrics(registry, () => queue.length);
  const inFlight = new Set<InFlightExecution>();
  const keys = new KeyRing(config.apiKeys);
  const background = new Background(
    { config, registry, queue, proxy, metrics, log, keys, webhooks: new WebhookPolicy(config.webhooks.allow) },
    registry.openQueues(config.background.resultTtlS * 1000),
  );
  metrics.watchQueues(() => background.counts());
  await background.start();
  const streams = { proxy: new StreamProxy(), metrics: createStreamMetrics(metrics.registry) };
  const app = createApp({ config, registry, queue, proxy, metrics, log, inFlight, keys, background, streams });
  const server = createServer(
    {
      // Both bound the arrival of a request, never the answer: a job may run for maxTimeoutMs.
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.bodyTimeoutMs,
      // Node checks both timeouts only this often (30 s by default, which would stretch them).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    app,
  );
  answerClientErrors(server);
  const sockets = attachStreamSocket(server, { config, registry, queue, streamProxy: streams.proxy, metrics, log, keys, streamMetrics: streams.metrics, runtime: new RuntimeVersion(registry) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.bindHost, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url }, 'router listening');
  // Claims that outlived their lease (a router died holding them) go back into service without
  // waiting for the next request to ask for a slot; every router may do it, each claim goes once.
  const stopReclaiming = new AbortController();
  const reclaiming = runLoop(
    RECLAIM_EVERY_MS,
    stopReclaiming.signal,
    async () => {
      const given = await registry.queue.reclaimExpiredClaims();
      if (given > 0) log.warn({ claims: given }, 'gave back claims that outlived their lease');
    },
    (err) => log.warn({ err }, 'reclaiming expired claims failed'),
  );

  return {
    url,
    async close() {
      // Stop accepting; waiting requests get a clear 503; running ones finish within the grace.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      sockets.close();
      await queue.close();
      // Keep-alive connections that finish their request during the grace must not hold it open.
      const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
      const grace = setTimeout(() => {
        log.warn({ graceMs: config.shutdownGraceMs, left: inFlight.size }, 'requests still running at the end of the grace: answering them');
        for (const request of inFlight) request.cut('shutting_down', 'The router stopped before the execution finished; its result is lost.');
        setTimeout(() => server.closeAllConnections(), 100).unref();
      }, config.shutdownGraceMs);
      await Promise.all([closed, background.close(config.shutdownGraceMs)]);
      clearTimeout(grace);
      clearInterval(idleSweep);
      stopReclaiming.abort();
      await reclaiming;
      proxy.close();
      streams.proxy.close();
      await unsubscribe();
      await registry.close();
    },
  };
}
