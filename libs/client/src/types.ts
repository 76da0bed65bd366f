import type { SubmissionRequest, TestCaseRequest } from '@corral/contracts';
import type { CorralClientError } from './errors';

/** The part of a response's headers the client reads; a fetch `Headers` fits. */
export interface HeadersLike {
  get(name: string): string | null;
}

/** The part of a fetch `Response` the client reads, so that any fetch (or a stand-in) fits. */
export interface FetchResponseLike {
  readonly status: number;
  readonly headers: HeadersLike;
  text(): Promise<string>;
  /** The body as it arrives; only `stream` reads it (a fetch `Response` has it). */
  readonly body?: { getReader(): StreamReaderLike } | null;
}

/** The part of a `ReadableStreamDefaultReader` that `stream` uses. */
export interface StreamReaderLike {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

/** What the client passes to fetch: always these four, nothing else. */
export interface FetchInitLike {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** A fetch function: the global `fetch` fits, and so does a test's or a transport's own. */
export type FetchLike = (url: string, init: FetchInitLike) => Promise<FetchResponseLike>;

export interface CorralClientOptions {
  /** Where the router listens, e.g. `http://127.0.0.1:8080`; a path prefix is kept (`https://example.com/corral`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when the router asks for keys. */
  apiKey?: string;
  /** Defaults to the global `fetch`, looked up at each call. */
  fetch?: FetchLike;
  /** More headers on every request. */
  headers?: Record<string, string>;
  /** Default for every call: how long it may take in all, retries and their waits included. None by default. */
  timeoutMs?: number;
  /**
   * Default for every call: how many times a 429 or 503 answer is tried again (those answers
   * mean the execution never ran). 0 by default, so that a caller sees the router's answer as it
   * is and decides; turn it on for traffic that should ride out a full queue.
   */
  retries?: number;
  /** Wait before a retry when the answer has no `Retry-After`, doubled each time. 500 by default. */
  retryDelayMs?: number;
  /** The longest wait before a retry; an answer asking for longer is not retried. 30 000 by default. */
  maxRetryDelayMs?: number;
}

/** Options of one call. */
export interface CallOptions {
  /** How long the call may take in all, retries and their waits included. */
  timeoutMs?: number;
  /** Aborts the call (and any wait before a retry). */
  signal?: AbortSignal;
  /** Overrides the client's `retries` for this call. */
  retries?: number;
}

/** Asks for the HTTP answer as a value, whatever its status, instead of a body or a thrown error. */
export interface RawOption {
  raw: true;
}

/** An HTTP answer: its status, its headers and its parsed body (JSON, else the text). */
export interface ClientResponse<T> {
  status: number;
  headers: HeadersLike;
  body: T;
}

/**
 * What a call with `raw: true` resolves to: the success with its body, or the answer that was
 * not one together with the error it would have thrown. Only a call that got no HTTP answer at
 * all (network, timeout, abort) still throws.
 */
export type RawAnswer<T> = (ClientResponse<T> & { ok: true }) | (ClientResponse<unknown> & { ok: false; error: CorralClientError });

/** Options of `waitUntilIdle`. */
export interface WaitUntilIdleOptions {
  /** At least this many idle slots; by default every slot the registry knows (and at least one). */
  slots?: number;
  /** Gives up after this long; 30 000 by default. */
  timeoutMs?: number;
  /** Pause between two looks at the pool; 50 by default. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Options of `wait` and `waitBatch`. */
export interface WaitOptions {
  /** Gives up after this long (`request_timeout`); 60 000 by default. */
  timeoutMs?: number;
  /** The first pause between two looks; 100 by default, then half as long again each time. */
  intervalMs?: number;
  /** The longest pause between two looks; 2000 by default. */
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

/** What `executeTests` sends: a submission with its tests, answered when every test ended. */
export type TestsRequest = Omit<SubmissionRequest, 'tests' | 'wait'> & { tests: TestCaseRequest[] };

/** The 202 answer of `submit`: the id to `get`, `wait` for or `cancel`. */
export interface SubmissionAccepted {
  id: string;
  state: 'queued';
}

/** Options of `stream`. */
export interface StreamOptions {
  /** How long the whole stream may take, from the request to the last event (`request_timeout`). None by default. */
  timeoutMs?: number;
  /** Aborts the request (`request_aborted`); the router then ends the execution and frees its slot. */
  signal?: AbortSignal;
  /** Overrides the client's `retries` for the answers before the stream (429, 503: nothing ran). */
  retries?: number;
  /** Ask for the output in the `result` too (`?includeOutput=true`); by default it was streamed, and the result's stdout/stderr are empty. */
  includeOutput?: boolean;
}
