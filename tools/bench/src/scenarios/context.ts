import { setTimeout as sleep } from 'node:timers/promises';
import type { Stack } from '@corral/devkit';
import type { Registry } from '@corral/registry';
import type { HttpAnswer, HttpClient } from '../http';
import type { Plan } from '../plan';
import type { Progress } from '../progress';

/** What the scenarios that talk to a running stack share. */
export interface StackContext {
  client: HttpClient;
  progress: Progress;
  plan: Plan;
  stack: Stack;
  /** The harness's own connection to the stack's Redis (claims, pool state). */
  registry: Registry;
  /** The sandbox runtime binary. */
  nodePath: string;
}

export const HELLO_CODE = 'console.log("hello")';
export const HELLO_OUTPUT = 'hello\n';
export const HELLO_BODY = JSON.stringify({ code: HELLO_CODE });

/** The execution status of a corral answer ("ok", "cpu_limit"…), or "http <status>" when it is not a 200. */
export function outcomeOf(answer: HttpAnswer): string {
  if (answer.status !== 200) return `http ${answer.status}`;
  try {
    return String((JSON.parse(answer.body.toString('utf8')) as { status?: unknown }).status ?? 'no status');
  } catch {
    return 'invalid json';
  }
}

/** A 200 `ok` answer whose stdout is the hello world's. */
export function isHello(answer: HttpAnswer): boolean {
  if (answer.status !== 200) return false;
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as { status?: unknown; stdout?: unknown };
    return body.status === 'ok' && body.stdout === HELLO_OUTPUT;
  } catch {
    return false;
  }
}

/** POSTs an execution to the router. */
export function execute(ctx: StackContext, body: string = HELLO_BODY): Promise<HttpAnswer> {
  return ctx.client.post(`${ctx.stack.url}/v1/executions`, body);
}

/** Waits until every slot is idle again (no sandbox booting in the background). */
export async function waitAllIdle(ctx: StackContext, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pool = await ctx.registry.slots.pool();
    if (pool.idle >= ctx.plan.slots) return;
    if (Date.now() > deadline) throw new Error(`the pool did not become idle within ${timeoutMs} ms (${pool.idle}/${pool.total} idle, ${pool.dead} dead)`);
    await sleep(5);
  }
}
