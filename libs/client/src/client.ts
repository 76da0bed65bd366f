import type { ExecutionRequest, ExecutionResult, HealthAnswer, PoolAnswer, ReadyAnswer } from '@corral/contracts';
import { CorralClientError } from './errors';
import { send, sleep, type Endpoint, type RequestConfig } from './request';
import type { CallOptions, CorralClientOptions, FetchLike, RawAnswer, RawOption, WaitUntilIdleOptions } from './types';

type MaybeRaw = CallOptions & { raw?: boolean };

/** Failures worth another look while waiting for the pool: the router not (yet) reachable or overloaded. */
function transient(err: CorralClientError): boolean {
  return err.code === 'network_error' || err.code === 'request_timeout' || (err.httpStatus !== null && (err.httpStatus >= 500 || err.httpStatus === 429));
}

function describePool(pool: PoolAnswer): string {
  return `${pool.idle}/${pool.total} idle, ${pool.busy} busy, ${pool.booting} booting, ${pool.dead} dead`;
}

/** The global fetch, looked up at each call (and called unbound: a browser's fetch refuses another `this`). */
const globalFetch: FetchLike = (url, init) => {
  if (typeof globalThis.fetch !== 'function') throw new TypeError('no global fetch here: pass options.fetch');
  return globalThis.fetch(url, init);
};

/**
 * corral's HTTP API, typed with the contracts the router validates with. Every method resolves
 * with the answer's body and throws a `CorralClientError` for anything else; with `raw: true` it
 * resolves with the HTTP answer whatever its status.
 */
export class CorralClient {
  /** The router's URL as given, without a trailing slash. */
  readonly baseUrl: string;
  private readonly config: RequestConfig;

  constructor(options: CorralClientOptions) {
    // Refuses what is not an absolute URL now, not at the first call.
    new URL(options.baseUrl);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.config = {
      baseUrl: this.baseUrl,
      headers: { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      fetch: options.fetch ?? globalFetch,
      timeoutMs: options.timeoutMs,
      retries: options.retries ?? 0,
      retryDelayMs: options.retryDelayMs ?? 500,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
    };
  }

  /** Every method is one endpoint over the one request function. */
  private async call<T>(endpoint: Endpoint, options: MaybeRaw = {}): Promise<T | RawAnswer<T>> {
    const answer = await send<T>(this.config, endpoint, options);
    if (options.raw) return answer;
    if (!answer.ok) throw answer.error;
    return answer.body;
  }

  /** `POST /v1/executions`: runs `request` once in a fresh sandbox; resolves whatever the code did (status `ok`, `error`, `timeout`…). */
  execute(request: ExecutionRequest, options?: CallOptions & { raw?: false }): Promise<ExecutionResult>;
  execute(request: ExecutionRequest, options: CallOptions & RawOption): Promise<RawAnswer<ExecutionResult>>;
  execute(request: ExecutionRequest, options: MaybeRaw = {}): Promise<ExecutionResult | RawAnswer<ExecutionResult>> {
    return this.call<ExecutionResult>({ method: 'POST', path: '/v1/executions', body: request }, options);
  }

  /** `GET /v1/pool`: slot counts by state, the slots, this router's queue and the consistency check. */
  pool(options?: CallOptions & { raw?: false }): Promise<PoolAnswer>;
  pool(options: CallOptions & RawOption): Promise<RawAnswer<PoolAnswer>>;
  pool(options: MaybeRaw = {}): Promise<PoolAnswer | RawAnswer<PoolAnswer>> {
    return this.call<PoolAnswer>({ method: 'GET', path: '/v1/pool' }, options);
  }

  /** `GET /healthz`: resolves while the router runs. */
  health(options?: CallOptions & { raw?: false }): Promise<HealthAnswer>;
  health(options: CallOptions & RawOption): Promise<RawAnswer<HealthAnswer>>;
  health(options: MaybeRaw = {}): Promise<HealthAnswer | RawAnswer<HealthAnswer>> {
    return this.call<HealthAnswer>({ method: 'GET', path: '/healthz' }, options);
  }

  /** `GET /readyz`: true with at least one idle slot, false when the router answers 503 (none idle, or shutting down). */
  ready(options?: CallOptions & { raw?: false }): Promise<boolean>;
  ready(options: CallOptions & RawOption): Promise<RawAnswer<ReadyAnswer>>;
  async ready(options: MaybeRaw = {}): Promise<boolean | RawAnswer<ReadyAnswer>> {
    const answer = await send<ReadyAnswer>(this.config, { method: 'GET', path: '/readyz' }, options);
    if (options.raw) return answer;
    if (answer.ok) return true;
    if (answer.status === 503) return false;
    throw answer.error;
  }

  /**
   * Looks at the pool until it has `slots` idle slots (by default all of them) and resolves with
   * that pool. An unreachable or overloaded router is looked at again; any other error (a wrong
   * key, an abort) throws at once, and so does the deadline, with the last pool seen.
   */
  async waitUntilIdle(options: WaitUntilIdleOptions = {}): Promise<PoolAnswer> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const intervalMs = options.intervalMs ?? 50;
    const deadline = Date.now() + timeoutMs;
    const wanted = options.slots === undefined ? 'every slot' : `${options.slots} slots`;
    let last = '';
    for (;;) {
      try {
        const pool = await this.pool({ timeoutMs: Math.max(1, deadline - Date.now()), ...(options.signal ? { signal: options.signal } : {}) });
        if (pool.total > 0 && pool.idle >= (options.slots ?? pool.total)) return pool;
        last = `the pool: ${describePool(pool)}`;
      } catch (err) {
        if (!(err instanceof CorralClientError) || !transient(err)) throw err;
        last = err.message;
      }
      if (Date.now() + intervalMs >= deadline) {
        throw new CorralClientError('request_timeout', `${wanted} of ${this.baseUrl} not idle within ${timeoutMs} ms; last: ${last}`);
      }
      try {
        await sleep(intervalMs, options.signal);
      } catch (reason) {
        throw new CorralClientError('request_aborted', `waiting for ${wanted} of ${this.baseUrl} to be idle: aborted`, { cause: reason });
      }
    }
  }
}
