import type { ErrorCode, ExecutionRequest, ExecutionResult, OutputEvent } from '@corral/contracts';
import { CorralClientError } from './errors';
import { answerOf, callSignal, describe, retryWaitMs, sleep, type RequestConfig } from './request';
import { SseParser, type SseMessage } from './sse';
import type { FetchInitLike, FetchResponseLike, StreamOptions, StreamReaderLike, TestsRequest } from './types';

/** The last event of a stream that ran: the usual result (a tests request: the verdicts and summary). */
export interface StreamResultEvent<R> {
  type: 'result';
  result: R;
}

/** What `stream` yields: output chunks in the order the program wrote them (`seq`), then one `result`. */
export type ClientStreamEvent<R = ExecutionResult> = OutputEvent | StreamResultEvent<R>;

/** The request of `stream`: one execution, or a submission with tests (each event then names its `test`). */
export type StreamRequest = ExecutionRequest | TestsRequest;

function invalid(message: string, cause?: unknown): CorralClientError {
  return new CorralClientError('invalid_response', message, cause === undefined ? {} : { cause });
}

function json(message: SseMessage): Record<string, unknown> {
  try {
    const value = JSON.parse(message.data) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch (err) {
    throw invalid(`the "${message.event}" event's data is not JSON`, err);
  }
  throw invalid(`the "${message.event}" event's data is not a JSON object`);
}

/** One SSE event as the client gives it out; an `error` event throws with its catalogue code. Unknown events are skipped (null). */
function eventOf<R>(message: SseMessage): ClientStreamEvent<R> | null {
  if (message.event === 'stdout' || message.event === 'stderr') {
    const { seq, data, test } = json(message);
    if (typeof seq !== 'number' || typeof data !== 'string') throw invalid(`a "${message.event}" event without seq and data`);
    return { type: message.event, seq, data, ...(typeof test === 'number' ? { test } : {}) };
  }
  if (message.event === 'result') return { type: 'result', result: json(message) as R };
  if (message.event === 'error') {
    const { code, message: text } = json(message);
    if (typeof code !== 'string') throw invalid('an "error" event without a code');
    throw new CorralClientError(code as ErrorCode, typeof text === 'string' ? text : code);
  }
  return null;
}

/** The body of a 200 text/event-stream answer, or null for any other answer (read by `answerOf`). */
function eventStream(res: FetchResponseLike): StreamReaderLike | null {
  const type = res.headers.get('content-type') ?? '';
  if (res.status !== 200 || !type.toLowerCase().startsWith('text/event-stream')) return null;
  if (!res.body) throw invalid('an event stream without a readable body (this fetch does not stream)');
  return res.body.getReader();
}

/**
 * Opens the stream. An answer before it (no event yet: nothing ran) is retried as `send`
 * retries it (429 and 503, `Retry-After`, the client's `retries`); any other throws its error
 * (its catalogue code, HTTP status, Retry-After).
 */
async function open(config: RequestConfig, url: string, init: FetchInitLike, retries: number, deadline: number | undefined): Promise<StreamReaderLike> {
  for (let attempt = 0; ; attempt += 1) {
    const res = await config.fetch(url, init);
    const reader = eventStream(res);
    if (reader) return reader;
    const answer = await answerOf<unknown>(res);
    if (answer.ok) throw invalid(`HTTP ${res.status} ${res.headers.get('content-type') ?? 'without a content type'}, not an event stream`);
    const wait = retryWaitMs(answer, attempt, config, retries, deadline);
    if (wait === null) throw answer.error;
    await sleep(wait, init.signal);
  }
}

/**
 * `POST /v1/executions` with `Accept: text/event-stream`: the output events as the program
 * writes them, then its `result`. Errors before the stream (a bad request, a wrong key, a full
 * queue…) throw as the other methods do; an `error` event (the execution could not run) throws
 * with its code; leaving the loop, `signal` or `timeoutMs` cut the request, and the router ends
 * the execution. A 429 or 503 before the stream is retried as the other methods retry it.
 */
export async function* streamEvents<R>(config: RequestConfig, request: StreamRequest, options: StreamOptions = {}): AsyncGenerator<ClientStreamEvent<R>, void, undefined> {
  const url = `${config.baseUrl}/v1/executions${options.includeOutput ? '?includeOutput=true' : ''}`;
  const timeoutMs = options.timeoutMs ?? config.timeoutMs;
  const stop = callSignal(options.signal, timeoutMs);
  const headers = { ...config.headers, accept: 'text/event-stream', 'content-type': 'application/json' };
  let reader: StreamReaderLike | undefined;
  let ended = false;
  try {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    reader = await open(config, url, { method: 'POST', headers, body: JSON.stringify(request), signal: stop.signal }, options.retries ?? config.retries, deadline);
    // A fetch whose body does not end with the signal (not every one does): cancelling it ends the pending read.
    const body = reader;
    stop.signal.addEventListener('abort', () => void body.cancel(stop.signal.reason).catch(() => undefined), { once: true });
    if (stop.signal.aborted) throw stop.signal.reason;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      const messages = parser.push(done ? decoder.decode() + '\n\n' : decoder.decode(value, { stream: true }));
      for (const message of messages) {
        const event = eventOf<R>(message);
        if (event === null) continue;
        if (event.type === 'result') ended = true;
        yield event;
        if (ended) return;
      }
      if (done) throw invalid('the stream ended before its result');
    }
  } catch (err) {
    if (stop.timedOut()) throw new CorralClientError('request_timeout', `POST ${url} (stream): not over within ${timeoutMs} ms`, { cause: err });
    if (options.signal?.aborted) throw new CorralClientError('request_aborted', `POST ${url} (stream): aborted`, { cause: options.signal.reason });
    if (err instanceof CorralClientError) throw err;
    throw new CorralClientError('network_error', `POST ${url} (stream): ${describe(err)}`, { cause: err });
  } finally {
    stop.dispose();
    // Left before the result (a break, a throw, an abort): cut the connection so that the router ends the execution.
    if (!ended) {
      stop.abort();
      await reader?.cancel().catch(() => undefined);
    }
  }
}
