import type { Response } from 'express';
import { CorralError, type ErrorCode } from '@corral/contracts';
import { RegistryUnavailableError } from '@corral/registry';
import type { DispatchLog, DispatchOutcome } from './dispatch';

/** A catalogue error as the router answers it. */
export interface ErrorAnswer {
  code: ErrorCode;
  message?: string;
  headers?: Record<string, string>;
}

const REGISTRY_DOWN: ErrorAnswer = { code: 'unavailable', message: 'The registry (Redis) cannot be reached; try again shortly.', headers: { 'retry-after': '1' } };

/** Answers with a catalogue error (as JSON; a response already under way is cut instead). */
export function sendError(res: Response, answer: ErrorAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const err = new CorralError(answer.code, answer.message);
  res.status(err.httpStatus).set(answer.headers ?? {}).json(err.toBody());
}

/** body-parser's failures, as catalogue errors. */
function bodyError(err: { type?: string; message?: string }): CorralError | null {
  switch (err.type) {
    case 'entity.too.large':
      return new CorralError('payload_too_large');
    case 'entity.parse.failed':
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new CorralError('invalid_request', err.message);
    case 'request.aborted':
    case 'request.size.invalid':
      return new CorralError('invalid_request', 'The request body was cut short.');
    default:
      return null;
  }
}

/** A thrown error as an answer: catalogue errors as they are, an unreachable registry as 503, anything else logged and 500. */
export function errorAnswer(err: unknown, log: Pick<DispatchLog, 'error'>): ErrorAnswer {
  const known = err instanceof CorralError ? err : bodyError((err ?? {}) as { type?: string });
  if (known) return { code: known.code, message: known.message, ...(known.code === 'unauthorized' ? { headers: { 'www-authenticate': 'Bearer' } } : {}) };
  if (err instanceof RegistryUnavailableError) return REGISTRY_DOWN;
  log.error({ err }, 'request failed');
  return { code: 'internal' };
}

/** How a dispatch outcome is answered: null when the worker's answer went out already or nobody is left to answer. */
export function outcomeAnswer(outcome: DispatchOutcome): ErrorAnswer | null {
  switch (outcome.kind) {
    case 'answered':
    case 'client_gone':
      return null;
    case 'rate_limited':
      return {
        code: 'rate_limited',
        message: `API key "${outcome.keyName}" may send ${outcome.ratePerMinute} requests a minute.`,
        headers: { 'retry-after': String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))) },
      };
    case 'concurrency_limited':
      return { code: 'concurrency_limited', message: `API key "${outcome.keyName}" may have ${outcome.maxConcurrent} executions at once.`, headers: { 'retry-after': '1' } };
    case 'queue_full':
      return { code: 'queue_full', message: outcome.message };
    case 'no_capacity':
      return { code: 'no_capacity', headers: { 'retry-after': '1' } };
    case 'shutting_down':
      return { code: 'shutting_down' };
    case 'unavailable':
      return outcome.cause === 'registry'
        ? REGISTRY_DOWN
        : { code: 'unavailable', message: `${outcome.attempts} slots in a row could not take the job; try again later.`, headers: { 'retry-after': '1' } };
    case 'worker_failed':
      return {
        code: 'worker_failed',
        message: `The worker of slot ${outcome.slotId} failed (${outcome.reason}) after the job was handed over; it was not retried.`,
      };
  }
}

/** What corral_executions_total counts an outcome as: the execution status the worker sent, else the error code; null when the client left. */
export function outcomeLabel(outcome: DispatchOutcome): string | null {
  if (outcome.kind === 'client_gone') return null;
  return outcome.kind === 'answered' ? (outcome.executionStatus ?? String(outcome.httpStatus)) : outcome.kind;
}
