import { CorralClient, type ExecutionRequest, type ExecutionResult, type HeadersLike, type PoolAnswer } from '@corral/client';
import { randomLoopbackBase, startStack, type Stack } from '@corral/devkit';

export interface Answer<T = ExecutionResult> {
  status: number;
  headers: HeadersLike;
  body: T;
  ms: number;
}

const clients = new Map<string, CorralClient>();

/** The suite's client of the router at `url`: one per router, as an application would hold it. */
export function corral(url: string): CorralClient {
  let client = clients.get(url);
  if (!client) clients.set(url, (client = new CorralClient({ baseUrl: url })));
  return client;
}

/**
 * POSTs an execution and returns the HTTP status, headers, parsed body and round-trip time: the
 * client's raw answer, whatever the status. A string is sent as the body as it is (malformed
 * JSON on purpose, which the client never sends), so that goes through fetch itself.
 */
export async function execute<T = ExecutionResult>(url: string, body: unknown): Promise<Answer<T>> {
  const started = Date.now();
  if (typeof body === 'string') {
    const res = await fetch(`${url}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, headers: res.headers, body: (await res.json()) as T, ms: Date.now() - started };
  }
  // Bodies the API rejects ({}, { code: ['x'] }) are sent too: that rejection is what is tested.
  const answer = await corral(url).execute(body as ExecutionRequest, { raw: true });
  return { status: answer.status, headers: answer.headers, body: answer.body as T, ms: Date.now() - started };
}

/** The whole stack with `slots` slots on a loopback base of its own, its output dropped and its services logging warnings only. */
export function startQuietStack(slots: number, env: Record<string, string> = {}): Promise<Stack> {
  return startStack({ slots, loopbackBase: randomLoopbackBase(), output: 'ignore', env: { LOG_LEVEL: 'warn', ...env } });
}

export function pool(url: string): Promise<PoolAnswer> {
  return corral(url).pool();
}
