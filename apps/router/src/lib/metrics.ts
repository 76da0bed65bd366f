import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { Registry } from '@corral/registry';

/** Latency buckets from a warm hello world (a few ms) to the longest wall limit. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface RouterMetrics {
  registry: PromRegistry;
  /** One execution request ended: `status` is the execution status, or the error code. */
  finished(status: string, seconds: number): void;
  queueWait(seconds: number): void;
  proxyError(reason: string): void;
  /** One test of a submission ended with this status (accepted, wrong_answer, …). */
  verdict(status: string): void;
  /** One webhook attempt: delivered, retried (it failed, another follows) or failed (the last). */
  webhook(outcome: 'delivered' | 'retried' | 'failed'): void;
  /** Where the depths of the background queues are read from when scraped. */
  watchQueues(counts: () => Promise<{ executions: QueueDepth; deliveries: QueueDepth }>): void;
}

interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
}

/**
 * The router's Prometheus metrics. Pool and watchdog figures are read from Redis when scraped,
 * so every router shows the fleet's.
 */
export function createMetrics(registry: Registry, queued: () => number): RouterMetrics {
  const prom = new PromRegistry();
  collectDefaultMetrics({ register: prom, prefix: 'corral_router_' });
  const executions = new Counter({
    name: 'corral_executions_total',
    help: 'Execution requests by outcome: an execution status (ok, error, timeout, …) or an error code (no_capacity, …).',
    labelNames: ['status'],
    registers: [prom],
  });
  const latency = new Histogram({
    name: 'corral_execution_duration_seconds',
    help: 'End-to-end time of execution requests, queueing included.',
    labelNames: ['status'],
    buckets: LATENCY_BUCKETS,
    registers: [prom],
  });
  const wait = new Histogram({
    name: 'corral_queue_wait_seconds',
    help: 'Time from arrival to holding a slot.',
    buckets: LATENCY_BUCKETS,
    registers: [prom],
  });
  const proxyErrors = new Counter({
    name: 'corral_proxy_errors_total',
    help: 'Hand-overs to workers that failed, by reason.',
    labelNames: ['reason'],
    registers: [prom],
  });
  new Gauge({
    name: 'corral_pool_slots',
    help: 'Slots by state, over the fleet.',
    labelNames: ['state'],
    registers: [prom],
    async collect() {
      const pool = await registry.slots.pool();
      for (const state of ['idle', 'busy', 'booting', 'dead'] as const) this.set({ state }, pool[state]);
    },
  });
  new Gauge({
    name: 'corral_queue_waiting',
    help: 'Requests waiting for a slot on this router.',
    registers: [prom],
    collect() {
      this.set(queued());
    },
  });
  const seenKills = new Map<string, number>();
  new Counter({
    name: 'corral_watchdog_kills_total',
    help: 'Sandboxes the watchdogs killed over a budget, by reason, over the fleet.',
    labelNames: ['reason'],
    registers: [prom],
    async collect() {
      for (const [reason, total] of Object.entries(await registry.jobs.killCounts())) {
        const delta = total - (seenKills.get(reason) ?? 0);
        if (delta > 0) this.inc({ reason }, delta);
        seenKills.set(reason, total);
      }
    },
  });
  const verdicts = new Counter({
    name: 'corral_test_verdicts_total',
    help: 'Tests of submissions by status: accepted, wrong_answer, or how the run ended.',
    labelNames: ['status'],
    registers: [prom],
  });
  const webhooks = new Counter({
    name: 'corral_webhook_deliveries_total',
    help: 'Webhook attempts by outcome: delivered, retried, failed (the last attempt failed).',
    labelNames: ['outcome'],
    registers: [prom],
  });
  let queueCounts: (() => Promise<{ executions: QueueDepth; deliveries: QueueDepth }>) | null = null;
  new Gauge({
    name: 'corral_background_jobs',
    help: 'Background executions and webhook deliveries in the durable queues, over the fleet, by queue and state.',
    labelNames: ['queue', 'state'],
    registers: [prom],
    async collect() {
      if (!queueCounts) return;
      const counts = await queueCounts().catch(() => null);
      if (!counts) return;
      for (const [queue, depth] of Object.entries(counts)) for (const [state, n] of Object.entries(depth)) this.set({ queue, state }, n);
    },
  });
  return {
    registry: prom,
    verdict: (status) => verdicts.inc({ status }),
    webhook: (outcome) => webhooks.inc({ outcome }),
    watchQueues(counts) {
      queueCounts = counts;
    },
    finished(status, seconds) {
      executions.inc({ status });
      latency.observe({ status }, seconds);
    },
    queueWait: (seconds) => wait.observe(seconds),
    proxyError: (reason) => proxyErrors.inc({ reason }),
  };
}
