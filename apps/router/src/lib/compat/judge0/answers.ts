import type { Request, Response } from 'express';
import type { ApiKey } from '@corral/config';
import { CorralError, ERROR_HEADER, type ErrorCode } from '@corral/contracts';
import { errorAnswer, type ErrorAnswer } from '../../answers';
import type { KeyRing } from '../../auth';
import type { DispatchLog } from '../../dispatch';

/** Judge0's authentication header (its AUTHN_HEADER default); the key may come as a query parameter too, as Judge0 takes it. */
const AUTH_TOKEN = 'x-auth-token';

/**
 * The corral API key of a Judge0 request: `X-Auth-Token` (header or parameter), or corral's own
 * `Authorization: Bearer`. @throws CorralError unauthorized when keys are on and it is missing or wrong
 */
export function judge0Key(req: Request, keys: KeyRing): ApiKey | null {
  if (!keys.enabled) return null;
  const query = req.query[AUTH_TOKEN] ?? req.query['X-Auth-Token'];
  const token = req.headers[AUTH_TOKEN] ?? (typeof query === 'string' ? query : undefined);
  return keys.identify(typeof token === 'string' ? { authorization: `Bearer ${token}` } : req.headers);
}

/** Judge0's answers to what corral refused: its status and `{ error }` body, corral's code in x-corral-error. */
const JUDGE0_REFUSALS: Partial<Record<ErrorCode, { httpStatus: number; error?: string }>> = {
  queue_full: { httpStatus: 503, error: 'queue is full' },
  no_capacity: { httpStatus: 503, error: 'queue is full' },
  concurrency_limited: { httpStatus: 503, error: 'queue is full' },
  invalid_json: { httpStatus: 400 },
};

/** Answers a corral refusal as Judge0 would: 401 with no body, 503 `queue is full`, else `{ error }` at corral's status. */
export function sendJudge0Error(res: Response, answer: ErrorAnswer): void {
  if (res.headersSent) return void res.destroy();
  const err = new CorralError(answer.code, answer.message);
  res.set(answer.headers ?? {}).set(ERROR_HEADER, err.code);
  if (err.code === 'unauthorized') return void res.status(401).end();
  const refusal = JUDGE0_REFUSALS[err.code];
  res.status(refusal?.httpStatus ?? err.httpStatus).json({ error: refusal?.error ?? err.message });
}

/** Judge0's 422: the field errors, as its model reports them. */
export function sendFieldErrors(res: Response, err: CorralError): void {
  res.status(422).set(ERROR_HEADER, err.code).json((err.details as { fields: Record<string, string[]> }).fields);
}

/** A thrown error as Judge0 answers it: field errors as 422, a refused callback as the field's error, the rest as `{ error }`. */
export function sendJudge0Thrown(res: Response, err: unknown, log: Pick<DispatchLog, 'error'>): void {
  if (err instanceof CorralError && err.code === 'invalid_request' && (err.details as { fields?: unknown } | undefined)?.fields) return sendFieldErrors(res, err);
  if (err instanceof CorralError && err.code === 'callback_refused') return void res.status(422).set(ERROR_HEADER, err.code).json({ callback_url: [err.message] });
  sendJudge0Error(res, errorAnswer(err, log));
}
