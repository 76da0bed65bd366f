import type { ErrorCode } from '@corral/contracts';
import type { ClientResponse } from './types';

/** Failures on the client's side of the wire: no answer at all, or one the API does not define. */
export const CLIENT_ERROR_CODES = ['network_error', 'request_timeout', 'request_aborted', 'invalid_response'] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** A code of the router's catalogue (`no_capacity`, `queue_full`…), or one of the client's own. */
export type CorralClientErrorCode = ErrorCode | ClientErrorCode;

export interface CorralClientErrorInit {
  httpStatus?: number | null;
  retryAfterMs?: number | null;
  details?: unknown;
  response?: ClientResponse<unknown> | null;
  cause?: unknown;
}

/** Every failure of a call: the router's coded error answer, or a client-side code when there was none. */
export class CorralClientError extends Error {
  readonly code: CorralClientErrorCode;
  /** The answer's HTTP status; null when there was no answer. */
  readonly httpStatus: number | null;
  /** From the answer's `Retry-After`: how long to wait before trying again; null when it had none. */
  readonly retryAfterMs: number | null;
  /** The error body's `details` (e.g. `{ problems }` of an invalid request). */
  readonly details: unknown;
  /** The router's execution id (`x-request-id`), when the answer carried one. */
  readonly requestId: string | null;
  /** The answer itself: status, headers and parsed body. */
  readonly response: ClientResponse<unknown> | null;

  constructor(code: CorralClientErrorCode, message: string, init: CorralClientErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'CorralClientError';
    this.code = code;
    this.httpStatus = init.httpStatus ?? init.response?.status ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.details = init.details;
    this.response = init.response ?? null;
    this.requestId = this.response?.headers.get('x-request-id') ?? null;
  }
}

/**
 * `Retry-After` in ms: delta-seconds, or an HTTP date (then relative to `now`); null when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Digits alone were handled above: anything else must read as a date (Date.parse('-1') is a year).
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

interface ErrorBodyShape {
  error: { code: string; message?: unknown; details?: unknown };
}

function isErrorBody(body: unknown): body is ErrorBodyShape {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}

/**
 * The error an answer that is not a success stands for. A `{ "error": { "code" } }` body carries
 * a code of the catalogue the router validates with (one repository, one version); any other
 * body (a proxy's HTML page, say) is `invalid_response`.
 */
export function errorFromAnswer(response: ClientResponse<unknown>): CorralClientError {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const { body } = response;
  if (isErrorBody(body)) {
    const message = typeof body.error.message === 'string' ? body.error.message : body.error.code;
    return new CorralClientError(body.error.code as ErrorCode, message, { retryAfterMs, details: body.error.details, response });
  }
  const what = typeof body === 'string' && body.length > 0 ? `: ${body.slice(0, 200)}` : '';
  return new CorralClientError('invalid_response', `HTTP ${response.status} without a corral error body${what}`, { retryAfterMs, response });
}
