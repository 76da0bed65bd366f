import { CorralClientError, errorFromAnswer } from './errors';
import type { CallOptions, ClientResponse, FetchLike, FetchResponseLike, RawAnswer } from './types';

/** One endpoint of the API, as a method of the client names it. */
export interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  /** From the base URL on, starting with `/`. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
}

/** What every call of one client shares. */
export interface RequestConfig {
  /** Without a trailing slash. */
  baseUrl: string;
  headers: Record<string, string>;
  fetch: FetchLike;
  timeoutMs: number | undefined;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

/** Answers that mean the router did not run the execution and it may be sent again. */
const RETRYABLE_STATUSES: readonly number[] = [429, 503];

/** The call's own signal: the caller's, and the call's deadline. */
export interface CallSignal {
  signal: AbortSignal;
  timedOut(): boolean;
  dispose(): void;
  /** Aborts the call's own signal (the caller's is left alone). */
  abort(): void;
}

export function callSignal(outer: AbortSignal | undefined, timeoutMs: number | undefined): CallSignal {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort(new Error(`timed out after ${timeoutMs} ms`));
        }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    abort: () => controller.abort(new Error('the caller left')),
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parse(text: string): { json: boolean; value: unknown } {
  if (text.length === 0) return { json: false, value: text };
  try {
    return { json: true, value: JSON.parse(text) as unknown };
  } catch {
    return { json: false, value: text };
  }
}

export async function answerOf<T>(res: FetchResponseLike): Promise<RawAnswer<T>> {
  const { json, value } = parse(await res.text());
  const response: ClientResponse<unknown> = { status: res.status, headers: res.headers, body: value };
  if (res.status >= 200 && res.status < 300) {
    if (json) return { ...response, body: value as T, ok: true };
    const error = new CorralClientError('invalid_response', `HTTP ${res.status} whose body is not JSON`, { response });
    return { ...response, ok: false, error };
  }
  return { ...response, ok: false, error: errorFromAnswer(response) };
}

/** How long to wait before trying an answer again, or null when it is not tried again. */
export function retryWaitMs(answer: RawAnswer<unknown>, attempt: number, config: RequestConfig, retries: number, deadline: number | undefined): number | null {
  if (answer.ok || attempt >= retries || !RETRYABLE_STATUSES.includes(answer.status)) return null;
  const wait = answer.error.retryAfterMs ?? config.retryDelayMs * 2 ** attempt;
  if (wait > config.maxRetryDelayMs) return null;
  // A retry that cannot be answered before the deadline: the answer in hand says more than a timeout.
  if (deadline !== undefined && Date.now() + wait >= deadline) return null;
  return wait;
}

/** A transport failure in words: fetch's own message is often just "fetch failed", its cause says why. */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
}

/**
 * The one request function under every method: sends `endpoint`, retries 429 and 503 answers
 * as allowed, and resolves with the last HTTP answer as a value. Rejects only when there was no
 * answer: `network_error`, `request_timeout`, `request_aborted`.
 */
export async function send<T>(config: RequestConfig, endpoint: Endpoint, call: CallOptions = {}): Promise<RawAnswer<T>> {
  const url = `${config.baseUrl}${endpoint.path}`;
  const timeoutMs = call.timeoutMs ?? config.timeoutMs;
  const retries = call.retries ?? config.retries;
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const headers: Record<string, string> = { accept: 'application/json', ...config.headers };
  const init = endpoint.body === undefined ? {} : { body: JSON.stringify(endpoint.body) };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const stop = callSignal(call.signal, timeoutMs);
  try {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await answerOf<T>(await config.fetch(url, { method: endpoint.method, headers, ...init, signal: stop.signal }));
      const wait = retryWaitMs(answer, attempt, config, retries, deadline);
      if (wait === null) return answer;
      await sleep(wait, stop.signal);
    }
  } catch (err) {
    if (stop.timedOut()) {
      throw new CorralClientError('request_timeout', `${endpoint.method} ${url}: no answer within ${timeoutMs} ms`, { cause: err });
    }
    if (call.signal?.aborted) throw new CorralClientError('request_aborted', `${endpoint.method} ${url}: aborted`, { cause: call.signal.reason });
    if (err instanceof CorralClientError) throw err;
    throw new CorralClientError('network_error', `${endpoint.method} ${url}: ${describe(err)}`, { cause: err });
  } finally {
    stop.dispose();
  }
}
