import type {
  BatchAccepted,
  BatchRecord,
  ExecutionRecord,
  ExecutionRequest,
  ExecutionResult,
  HealthAnswer,
  PoolAnswer,
  ReadyAnswer,
  RuntimesAnswer,
  SubmissionRequest,
  TestsResult,
} from '@corral/contracts';
import { poll } from './poll';
import { send, type Endpoint, type RequestConfig } from './request';
import { streamEvents, type ClientStreamEvent } from './stream';
import type {
  CallOptions,
  CorralClientOptions,
  FetchLike,
  RawAnswer,
  RawOption,
  SubmissionAccepted,
  TestsRequest,
  StreamOptions,
  WaitOptions,
  WaitUntilIdleOptions,
} from './types';

type MaybeRaw = CallOptions & { raw?: boolean };

function describePool(pool: PoolAnswer): string {
  return `${pool.idle}/${pool.total} idle, ${pool.busy} busy, ${pool.booting} booting, ${pool.dead} dead`;
}

/** The pauses of `wait` and `waitBatch`: from 100 ms, half as long again each time, up to 2 s; 60 s in all. */
function pacing(options: WaitOptions) {
  return {
    timeoutMs: options.timeoutMs ?? 60_000,
    intervalMs: options.intervalMs ?? 100,
    backoff: 1.5,
    maxIntervalMs: options.maxIntervalMs ?? 2000,
    signal: options.signal,
  };
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

  /** `POST /v1/executions` with `tests`: runs the program once per test and resolves with a verdict per test and the summary. */
  executeTests(request: TestsRequest, options: CallOptions = {}): Promise<TestsResult> {
    return this.call<TestsResult>({ method: 'POST', path: '/v1/executions', body: request }, options) as Promise<TestsResult>;
  }

  /**
   * `POST /v1/executions` with `Accept: text/event-stream`: an async iterator over the program's
   * `stdout`/`stderr` chunks as it writes them (`{ seq, data, test? }`), then one `result`.
   * Errors before the stream throw with their catalogue code, as `execute` does; an `error`
   * event throws with its code; `break`, `signal` or `timeoutMs` cut the request, and the
   * router ends the execution at once.
   */
  stream(request: TestsRequest, options?: StreamOptions): AsyncGenerator<ClientStreamEvent<TestsResult>, void, undefined>;
  stream(request: ExecutionRequest, options?: StreamOptions): AsyncGenerator<ClientStreamEvent<ExecutionResult>, void, undefined>;
  stream(request: ExecutionRequest | TestsRequest, options: StreamOptions = {}): AsyncGenerator<ClientStreamEvent<ExecutionResult | TestsResult>, void, undefined> {
    return streamEvents<ExecutionResult | TestsResult>(this.config, request, options);
  }

  /** `POST /v1/executions` with `wait: false`: queues the submission (tests or not) in the background; resolves with its id at once. */
  submit(request: SubmissionRequest, options: CallOptions = {}): Promise<SubmissionAccepted> {
    return this.call<SubmissionAccepted>({ method: 'POST', path: '/v1/executions', body: { ...request, wait: false } }, options) as Promise<SubmissionAccepted>;
  }

  /** `GET /v1/executions/{id}`: the record of a background execution (`state`, and `result` once `done`). */
  get(id: string, options: CallOptions = {}): Promise<ExecutionRecord> {
    return this.call<ExecutionRecord>({ method: 'GET', path: `/v1/executions/${encodeURIComponent(id)}` }, options) as Promise<ExecutionRecord>;
  }

  /** `DELETE /v1/executions/{id}`: a queued execution never starts, a running one is stopped; resolves with the record. */
  cancel(id: string, options: CallOptions = {}): Promise<ExecutionRecord> {
    return this.call<ExecutionRecord>({ method: 'DELETE', path: `/v1/executions/${encodeURIComponent(id)}` }, options) as Promise<ExecutionRecord>;
  }

  /** Polls `get(id)` (pauses growing from `intervalMs` to `maxIntervalMs`) until the execution is `done` or `cancelled`; resolves with that record. */
  wait(id: string, options: WaitOptions = {}): Promise<ExecutionRecord> {
    return poll<ExecutionRecord>({
      look: (call) => this.get(id, call),
      done: (record) => record.state === 'done' || record.state === 'cancelled',
      describe: (record) => `state ${record.state}, ${record.attempts} attempts`,
      what: `waiting for execution ${id} to end`,
      ...pacing(options),
    });
  }

  /** `POST /v1/batches`: every submission runs in the background; resolves with the batch id and the members' ids in order. */
  submitBatch(executions: SubmissionRequest[], options: CallOptions = {}): Promise<BatchAccepted> {
    return this.call<BatchAccepted>({ method: 'POST', path: '/v1/batches', body: { executions } }, options) as Promise<BatchAccepted>;
  }

  /** `GET /v1/batches/{id}`: every member's record in the order sent, and counts by state. */
  getBatch(id: string, options: CallOptions = {}): Promise<BatchRecord> {
    return this.call<BatchRecord>({ method: 'GET', path: `/v1/batches/${encodeURIComponent(id)}` }, options) as Promise<BatchRecord>;
  }

  /** Polls `getBatch(id)` until no member is `queued` or `running`; resolves with that batch. */
  waitBatch(id: string, options: WaitOptions = {}): Promise<BatchRecord> {
    return poll<BatchRecord>({
      look: (call) => this.getBatch(id, call),
      done: (batch) => batch.states.queued === 0 && batch.states.running === 0,
      describe: (batch) => Object.entries(batch.states).map(([state, n]) => `${n} ${state}`).join(', '),
      what: `waiting for batch ${id} to end`,
      ...pacing(options),
    });
  }

  /** `GET /v1/runtimes`: the languages, the runtime version and the package set. */
  runtimes(options: CallOptions = {}): Promise<RuntimesAnswer> {
    return this.call<RuntimesAnswer>({ method: 'GET', path: '/v1/runtimes' }, options) as Promise<RuntimesAnswer>;
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
  waitUntilIdle(options: WaitUntilIdleOptions = {}): Promise<PoolAnswer> {
    const wanted = options.slots === undefined ? 'every slot' : `${options.slots} slots`;
    const intervalMs = options.intervalMs ?? 50;
    return poll<PoolAnswer>({
      look: (call) => this.pool(call),
      done: (pool) => pool.total > 0 && pool.idle >= (options.slots ?? pool.total),
      describe: (pool) => `the pool: ${describePool(pool)}`,
      what: `waiting for ${wanted} of ${this.baseUrl} to be idle`,
      timeoutMs: options.timeoutMs ?? 30_000,
      intervalMs,
      backoff: 1,
      maxIntervalMs: intervalMs,
      signal: options.signal,
    });
  }
}
