import type { Response } from 'express';
import { CorralError, type ErrorCode } from '@corral/contracts';
import { RegistryUnavailableError } from '@corral/registry';
import type { DispatchLog, DispatchOutcome } from './dispatch';

/** A catalogue error as the router answers it. */
export interface ErrorAnswer {
  code: ErrorCode;
  message?: string;
  details?: unknown;
  headers?: Record<string, string>;
}

const REGISTRY_DOWN: ErrorAnswer = { code: 'unavailable', message: 'The registry (Redis) cannot be reached; try again shortly.', headers: { 'retry-after': '1' } };

/** Answers with a catalogue error (as JSON; a response already under way is cut instead). */
export function sendError(res: Response, answer: ErrorAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const err = new CorralError(answer.code, answer.message, answer.details);
  res.status(err.httpStatus).set(answer.headers ?? {}).json(err.toBody());
}

/** A thrown error as an answer: catalogue errors as they are, an unreachable registry as 503, anything else logged and 500. */
export function errorAnswer(err: unknown, log: Pick<DispatchLog, 'error'>): ErrorAnswer {
  if (err instanceof CorralError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
      ...(err.code === 'unauthorized' ? { headers: { 'www-authenticate': 'Bearer' } } : {}),
      ...(err.code === 'rate_limited' ? { headers: { 'retry-after': String(Math.max(1, Math.ceil(Number((err.details as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 1000) / 1000))) } } : {}),
    };
  }
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
