import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionRequest } from '@corral/client';
import type { HttpAnswer } from '../http';
import type { Plan } from '../plan';
import type { StackParts } from './scenario';

export const HELLO_CODE = 'console.log("hello")';
export const HELLO_OUTPUT = 'hello\n';
export const HELLO: ExecutionRequest = { code: HELLO_CODE };
export const HELLO_BODY = JSON.stringify(HELLO);

/** One answer as the scenarios count it. */
export interface Timed {
  /** The execution status ("ok", "cpu_limit"…), or "http <status>" when the answer is not a 200, or "invalid json". */
  outcome: string;
  /** A 200 `ok` answer whose stdout is the hello world's. */
  hello: boolean;
  /** Round trip: request started → whole answer read and parsed. */
  ms: number;
  /** performance.now() when the answer was complete. */
  endedAt: number;
}

function timed(status: number, body: unknown, ms: number, endedAt: number): Timed {
  if (status !== 200) return { outcome: `http ${status}`, hello: false, ms, endedAt };
  if (typeof body !== 'object' || body === null) return { outcome: 'invalid json', hello: false, ms, endedAt };
  const { status: outcome, stdout } = body as { status?: unknown; stdout?: unknown };
  return { outcome: String(outcome ?? 'no status'), hello: outcome === 'ok' && stdout === HELLO_OUTPUT, ms, endedAt };
}

/** A raw answer of the load generator (the worker's own endpoint), counted like the router's. */
export function timedAnswer(answer: HttpAnswer): Timed {
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    body = undefined;
  }
  return timed(answer.status, body, answer.ms, answer.endedAt);
}

/** Runs `request` through the router with @corral/client, as a user's application would. */
export async function execute(ctx: StackParts, request: ExecutionRequest = HELLO): Promise<Timed> {
  const started = performance.now();
  const answer = await ctx.corral.execute(request, { raw: true });
  const endedAt = performance.now();
  return timed(answer.status, answer.body, endedAt - started, endedAt);
}

/**
 * Waits until every slot is idle again (no sandbox booting in the background). It reads the
 * registry itself every 5 ms rather than asking the router: the router's CPU is what the
 * scenarios measure, and polling it would compete with the boot being waited for.
 */
export async function waitAllIdle(ctx: StackParts & { plan: Plan }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pool = await ctx.registry.slots.pool();
    if (pool.idle >= ctx.plan.slots) return;
    if (Date.now() > deadline) throw new Error(`the pool did not become idle within ${timeoutMs} ms (${pool.idle}/${pool.total} idle, ${pool.dead} dead)`);
    await sleep(5);
  }
}
