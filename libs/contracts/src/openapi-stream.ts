import type { ErrorCode } from './errors';
import { CLOSE_CODES, STREAM_PATH, STREAM_SIGNALS } from './stream';

/** Codes only the WebSocket session answers (as `error` messages), never an HTTP status of POST /v1/executions. */
export const STREAM_SESSION_CODES: readonly ErrorCode[] = ['stream_protocol', 'stream_frame_too_large', 'stream_unknown_signal', 'stream_already_started', 'stream_not_started'];

/** The 200 answer's event stream (`Accept: text/event-stream`), as a content type beside JSON. */
export function sseContent(): Record<string, unknown> {
  return {
    'text/event-stream': {
      schema: {
        type: 'string',
        description:
          'Sent when the request has `Accept: text/event-stream` (one execution, `wait` not false, no tests or callbackUrl): ' +
          '`event: stdout` and `event: stderr` with `data: {"seq": n, "data": "…"}` in the order the program wrote them (seq counts both streams from 0); ' +
          'comments (`: heartbeat`) after CORRAL_STREAM_HEARTBEAT_MS of silence; then one `event: result` whose data is the ExecutionResult ' +
          '(stdout and stderr empty unless the query has `includeOutput=true`), or one `event: error` with `{"code", "message"}` when it could not run ' +
          '(no_capacity, queue_full, rate_limited, concurrency_limited, unavailable, worker_failed…). A bad request is answered before the stream, as JSON with its HTTP status. See docs/streaming.md.',
      },
    },
  };
}

/** The WebSocket session, as an `x-websocket` extension on its GET (the upgrade). */
export function streamPaths(): Record<string, unknown> {
  return {
    [STREAM_PATH]: {
      get: {
        operationId: 'streamExecution',
        summary: 'Upgrade to a WebSocket session running one interactive execution (see docs/streaming.md).',
        responses: {
          '101': { description: 'Switching protocols: the session follows x-websocket.' },
          '401': { description: 'A valid API key is required (the upgrade is refused). Codes: unauthorized.' },
        },
        'x-websocket': {
          clientMessages: {
            start: '{ "type": "start", "includeOutput"?: boolean, …the fields of POST /v1/executions (one execution) } — first, once',
            stdin: '{ "type": "stdin", "data": string } — more standard input, any number of times (in all at most the stdin limit)',
            stdin_end: '{ "type": "stdin_end" } — end of input',
            signal: `{ "type": "signal", "signal": ${STREAM_SIGNALS.map((s) => `"${s}"`).join(' | ')} }`,
          },
          serverMessages: {
            output: '{ "type": "stdout" | "stderr", "seq": n, "data": string }',
            result: '{ "type": "result", …the fields of ExecutionResult } — last, then close 1000',
            error: '{ "type": "error", "code": ErrorCode, "message": string } — last, then close with its code',
          },
          closeCodes: {
            [CLOSE_CODES.done]: 'the result was sent',
            [CLOSE_CODES.binary]: 'a binary frame (stream_protocol)',
            [CLOSE_CODES.protocol]: 'not JSON, an unknown type, a second start, stdin before start, an unknown signal, an invalid request, no start in time',
            [CLOSE_CODES.tooLarge]: 'a frame over the limit (CORRAL_MAX_BODY_BYTES) or stdin over its limit (stream_frame_too_large)',
            [CLOSE_CODES.failed]: 'worker_failed or internal',
            [CLOSE_CODES.tryAgain]: 'no_capacity, queue_full, rate_limited, concurrency_limited, unavailable, shutting_down',
          },
          errorCodes: STREAM_SESSION_CODES,
        },
      },
    },
  };
}
