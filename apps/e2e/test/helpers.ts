import type { ExecutionResult, PoolAnswer } from '@corral/contracts';

export interface Answer<T = ExecutionResult> {
  status: number;
  headers: Headers;
  body: T;
  ms: number;
}

/** POSTs an execution and returns the HTTP status, headers, parsed body and round-trip time. */
export async function execute<T = ExecutionResult>(url: string, body: unknown): Promise<Answer<T>> {
  const started = Date.now();
  const res = await fetch(`${url}/v1/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T, ms: Date.now() - started };
}

export async function pool(url: string): Promise<PoolAnswer> {
  return (await (await fetch(`${url}/v1/pool`)).json()) as PoolAnswer;
}
