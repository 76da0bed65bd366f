import type { ExecutionResult } from './api';
import { CorralError, type ErrorCode } from './errors';

/**
 * Live executions: the messages of the WebSocket session (`GET /v1/executions/stream`), the
 * events of the SSE answer (`POST /v1/executions` with `Accept: text/event-stream`), and the
 * NDJSON the router and a worker speak for one live job (a hand-over carrying STREAM_HEADER).
 */

/** A hand-over carrying this header (value `1`) is a live job: NDJSON both ways. */
export const STREAM_HEADER = 'x-corral-stream';
/** The WebSocket endpoint. */
export const STREAM_PATH = '/v1/executions/stream';

/** The signals a client may send to its running program. */
export const STREAM_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StreamSignal = (typeof STREAM_SIGNALS)[number];

export function isStreamSignal(value: unknown): value is StreamSignal {
  return typeof value === 'string' && (STREAM_SIGNALS as readonly string[]).includes(value);
}

/** Which of the program's streams a chunk of output comes from. */
export type OutputStream = 'stdout' | 'stderr';

/** One chunk of output, numbered from 0 across both streams in the order the program wrote them; `test`: the test's index. */
export interface OutputEvent {
  type: OutputStream;
  seq: number;
  data: string;
  test?: number;
}

/** The last event of a live execution that ran. */
export interface ResultEvent {
  type: 'result';
  result: ExecutionResult | Record<string, unknown>;
}

/** The last event of a live execution that could not run, or of a session that broke the protocol. */
export interface ErrorEvent {
  type: 'error';
  code: ErrorCode;
  message: string;
}

export type StreamEvent = OutputEvent | ResultEvent | ErrorEvent;

/** What a client sends over the WebSocket after its `start`. */
export type ControlMessage = { type: 'stdin'; data: string } | { type: 'stdin_end' } | { type: 'signal'; signal: StreamSignal };

/** The client's first message: the usual request (a body of POST /v1/executions), and whether the result carries the output too. */
export interface StartMessage {
  type: 'start';
  request: Record<string, unknown>;
  includeOutput: boolean;
}

export type ClientMessage = StartMessage | ControlMessage;

/**
 * WebSocket close codes (RFC 6455 §7.4): 1000 after `result`; 1003 a binary frame; 1008 a
 * message against the protocol (not JSON, unknown type, a second start, stdin before start, an
 * unknown signal, an invalid request); 1009 a frame or stdin over its limit; 1011 the execution
 * failed on the server side (worker_failed, internal); 1013 try again later (no capacity,
 * queue full, a key's limits, the service unavailable or shutting down).
 */
export const CLOSE_CODES = { done: 1000, binary: 1003, protocol: 1008, tooLarge: 1009, failed: 1011, tryAgain: 1013 } as const;

const TRY_AGAIN: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['no_capacity', 'queue_full', 'rate_limited', 'concurrency_limited', 'unavailable', 'shutting_down']);

/** The close code that goes with an `error` message of this code. */
export function closeCodeFor(code: ErrorCode): number {
  if (code === 'stream_frame_too_large' || code === 'payload_too_large') return CLOSE_CODES.tooLarge;
  if (TRY_AGAIN.has(code)) return CLOSE_CODES.tryAgain;
  if (code === 'worker_failed' || code === 'internal') return CLOSE_CODES.failed;
  return CLOSE_CODES.protocol;
}

function protocolError(message: string): CorralError {
  return new CorralError('stream_protocol', message);
}

/**
 * Parses one text frame of the WebSocket session. @throws CorralError stream_protocol (not
 * JSON, not an object, an unknown type, a field of the wrong type), stream_unknown_signal
 */
export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw protocolError('A message must be a JSON object such as {"type":"stdin","data":"…"}.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocolError('A message must be a JSON object with a "type".');
  const message = value as Record<string, unknown>;
  switch (message['type']) {
    case 'start': {
      const { includeOutput, ...request } = message;
      delete request['type'];
      if (includeOutput !== undefined && typeof includeOutput !== 'boolean') throw protocolError('"includeOutput" must be a boolean.');
      return { type: 'start', request, includeOutput: includeOutput === true };
    }
    case 'stdin':
      if (typeof message['data'] !== 'string') throw protocolError('"stdin" needs "data", a string.');
      return { type: 'stdin', data: message['data'] };
    case 'stdin_end':
      return { type: 'stdin_end' };
    case 'signal':
      if (!isStreamSignal(message['signal'])) throw new CorralError('stream_unknown_signal', `"signal" must be one of ${STREAM_SIGNALS.join(', ')}.`);
      return { type: 'signal', signal: message['signal'] };
    default:
      throw protocolError('"type" must be one of start, stdin, stdin_end, signal.');
  }
}

/** The first NDJSON line of a live hand-over: the job's options beside the job itself. */
export interface LiveJobHeader {
  /** stdin stays open after the job's own `stdin` for `stdin` lines, until `stdin_end`. */
  interactive: boolean;
  /** The result carries stdout and stderr (they were streamed either way). */
  includeOutput: boolean;
}

/** What a worker sends on a live hand-over after its 200: output chunks, then one result. */
export type WorkerStreamLine = { type: OutputStream; data: string } | { type: 'result'; result: ExecutionResult };

/** Parses one of the control lines a router sends on a live hand-over (the same messages as the client's). @throws CorralError */
export function parseControlLine(text: string): ControlMessage {
  const message = parseClientMessage(text);
  if (message.type === 'start') throw new CorralError('stream_already_started', 'The job was started already.');
  return message;
}
