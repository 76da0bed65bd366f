/**
 * The catalogue of coded errors. Every failure that reaches a client or crosses between two
 * services is one of these codes; HTTP statuses are attached here and used only at the edge.
 */
export const ERROR_CATALOGUE = {
  invalid_json: { httpStatus: 400, message: 'The request body is not valid JSON.' },
  invalid_request: { httpStatus: 400, message: 'The request does not match the API.' },
  callback_refused: { httpStatus: 400, message: 'The callbackUrl is not an allowed destination (CORRAL_WEBHOOK_ALLOW).' },
  invalid_id: { httpStatus: 400, message: 'That is not an execution or batch id.' },
  unauthorized: { httpStatus: 401, message: 'A valid API key is required.' },
  bad_token: { httpStatus: 403, message: 'The slot token is missing, wrong or already used.' },
  not_found: { httpStatus: 404, message: 'No such endpoint.' },
  method_not_allowed: { httpStatus: 405, message: 'This endpoint does not take that method.' },
  request_timeout: { httpStatus: 408, message: 'The request did not arrive in time.' },
  slot_busy: { httpStatus: 409, message: 'The slot is already running a job.' },
  payload_too_large: { httpStatus: 413, message: 'The request body is too large.' },
  unsupported_media_type: { httpStatus: 415, message: 'The request body must be JSON, sent as it is (no Content-Encoding).' },
  headers_too_large: { httpStatus: 431, message: 'The request headers are too large.' },
  queue_full: { httpStatus: 429, message: 'Too many requests are waiting for a slot.' },
  rate_limited: { httpStatus: 429, message: 'This API key sent more requests than its rate allows.' },
  concurrency_limited: { httpStatus: 429, message: 'This API key has as many executions running as it may.' },
  internal: { httpStatus: 500, message: 'Internal error.' },
  worker_failed: { httpStatus: 502, message: 'The worker failed while the job may have been running; it was not retried.' },
  no_capacity: { httpStatus: 503, message: 'No sandbox became free within the queue deadline.' },
  unavailable: { httpStatus: 503, message: 'The service is not available.' },
  shutting_down: { httpStatus: 503, message: 'The service is shutting down.' },
  stream_protocol: { httpStatus: 400, message: 'The message does not follow the streaming protocol (docs/streaming.md).' },
  stream_frame_too_large: { httpStatus: 413, message: 'The message is larger than the streaming limit.' },
  stream_unknown_signal: { httpStatus: 400, message: 'That signal cannot be sent; use SIGINT or SIGTERM.' },
  stream_already_started: { httpStatus: 409, message: 'The session has started its execution already.' },
  stream_not_started: { httpStatus: 409, message: 'Send a start message before anything else.' },
} as const satisfies Record<string, { httpStatus: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The JSON body of every answer that is not an execution result. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** The most an error body says: a few sentences, a short list of problems. */
export const MAX_MESSAGE_CHARS = 1024;
export const MAX_DETAILS_CHARS = 4096;

/** A failure with a catalogue code; `httpStatus` comes from the catalogue. */
export class CorralError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'CorralError';
    this.code = code;
    this.httpStatus = ERROR_CATALOGUE[code].httpStatus;
    this.details = details;
  }

  /**
   * The JSON body, bounded whatever the message and details hold (they may quote what a client
   * sent): a message over MAX_MESSAGE_CHARS is cut, details over MAX_DETAILS_CHARS are left out.
   */
  toBody(): ErrorBody {
    const message = this.message.length > MAX_MESSAGE_CHARS ? `${this.message.slice(0, MAX_MESSAGE_CHARS)}…` : this.message;
    const body: ErrorBody = { error: { code: this.code, message } };
    if (this.details !== undefined && (JSON.stringify(this.details)?.length ?? 0) <= MAX_DETAILS_CHARS) body.error.details = this.details;
    return body;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, value);
}

export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  return new CorralError(code, message).toBody();
}
