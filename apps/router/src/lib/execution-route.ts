import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream';
import type { Request, Response } from 'express';
import type { RouterConfig } from '@corral/config';
import { CorralError, parseSubmission, STATUS_HEADER, type ErrorCode, type Submission, type SubmissionLimits } from '@corral/contracts';
import type { Registry } from '@corral/registry';
import type { Logger } from '@corral/service';
import { errorAnswer, outcomeAnswer, outcomeLabel, sendError, type ErrorAnswer } from './answers';
import type { KeyRing } from './auth';
import type { Background } from './background';
import { readBody } from './body';
import { dispatchExecution } from './dispatch';
import type { RouterMetrics } from './metrics';
import type { WorkerProxy } from './proxy';
import type { SlotQueue } from './slot-queue';

/** An execution request in flight; the router's shutdown answers what is left at the end of its grace. */
export interface InFlightExecution {
  cut(code: ErrorCode, message: string): void;
}

export interface ExecutionRouteDeps {
  config: Readonly<RouterConfig>;
  keys: KeyRing;
  registry: Registry;
  queue: SlotQueue;
  proxy: WorkerProxy;
  metrics: RouterMetrics;
  log: Logger;
  inFlight: Set<InFlightExecution>;
  background: Background;
}

/** Reads a JSON body. @throws CorralError (invalid_json, payload_too_large, unsupported_media_type…) */
export async function readJson(req: Request, maxBodyBytes: number): Promise<unknown> {
  const body = await readBody(req, maxBodyBytes);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new CorralError('invalid_json', 'The request body is not valid JSON (send a JSON object with at least "code").');
  }
}

/** Reads and validates the submission. @throws CorralError (invalid_json, invalid_request, payload_too_large, unsupported_media_type…) */
async function readSubmission(req: Request, maxBodyBytes: number, limits: SubmissionLimits): Promise<Submission> {
  return parseSubmission(await readJson(req, maxBodyBytes), limits);
}

/**
 * Counts one request in corral_executions_total once both are known: how it ended (the first
 * ending given wins; null, the client left, is never counted) and when its answer was out (the
 * worker's answer may be out before dispatch has returned its outcome, or after).
 */
function tally(res: Response, metrics: RouterMetrics): (label: string | null) => void {
  const started = performance.now();
  let label: string | null | undefined;
  let seconds: number | undefined;
  const record = (): void => {
    if (label && seconds !== undefined) metrics.finished(label, seconds);
  };
  finished(res, (err) => {
    if (err) return; // cut short: the client went away
    seconds = (performance.now() - started) / 1000;
    record();
  });
  return (ending) => {
    if (label !== undefined) return;
    label = ending;
    record();
  };
}

/**
 * POST /v1/executions: authenticates, parses, runs `dispatchExecution` and maps its outcome to
 * HTTP. Every ending is counted by what it was, once its answer is out (not when the client left).
 */
export function executionRoute(deps: ExecutionRouteDeps): (req: Request, res: Response) => Promise<void> {
  const { config, keys, registry, queue, proxy, metrics, log, inFlight, background } = deps;
  return async (req, res) => {
    const count = tally(res, metrics);
    const entry: InFlightExecution = {
      cut(code, message) {
        count(code);
        sendError(res, { code, message });
      },
    };
    inFlight.add(entry);
    // Whoever leaves first (the client, or the answer being sent) ends the wait.
    const gone = new AbortController();
    res.once('close', () => {
      inFlight.delete(entry);
      gone.abort(new Error('client went away'));
    });
    const requestId = randomUUID();
    res.set('x-request-id', requestId);

    let answer: ErrorAnswer | null;
    let reqLog = log.child({ requestId });
    try {
      const key = keys.identify(req.headers);
      if (key) reqLog = reqLog.child({ key: key.name });
      const submission = await readSubmission(req, config.maxBodyBytes, config.limits);
      if (!submission.wait) {
        const id = await background.accept(submission, key);
        count('queued');
        res.status(202).set('location', `/v1/executions/${id}`).json({ id, state: 'queued' });
        return;
      }
      if (submission.tests || submission.callbackUrl) {
        const waited = await background.runWaited(submission, key, gone.signal, reqLog);
        if (waited.kind === 'stopped') return count(null);
        if (waited.kind === 'error') throw waited.error;
        count('tests' in waited.result ? waited.result.summary.status : waited.result.status);
        res.status(200).set(STATUS_HEADER, 'tests' in waited.result ? waited.result.summary.status : waited.result.status).json(waited.result);
        return;
      }
      const job = submission.job;
      const body = Buffer.from(JSON.stringify(job));
      const outcome = await dispatchExecution(job, {
        requestId,
        key,
        arrivedAt: Date.now(),
        signal: gone.signal,
        handOver: (lease, timeoutMs) => proxy.forward(res, lease, body, requestId, timeoutMs, gone.signal),
        queueTimeoutMs: config.queueTimeoutMs,
        maxRetries: config.maxRetries,
        ports: { admission: registry.admission, slots: queue, claims: registry.queue, metrics, clock: Date, log: reqLog },
      });
      count(outcomeLabel(outcome));
      answer = outcomeAnswer(outcome);
    } catch (err) {
      answer = errorAnswer(err, reqLog);
      count(answer.code);
    }
    if (!answer) return;
    if (!req.complete) answer = refusedUnread(req, answer);
    sendError(res, answer);
  };
}

/** A refused body is read and thrown away up to this much, so that a client still sending it reads the answer. */
const REFUSED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;
const REFUSED_BODY_DRAIN_MS = 5000;

/**
 * A body refused unread (from its headers, or as soon as it grew too large). A client that is
 * still sending it would meet a closed connection mid-write and never see the answer, so the
 * rest is read and thrown away, but only so much: a body declared larger than that closes the
 * connection right after the answer, and one that keeps coming past it, or too long, is cut.
 */
function refusedUnread(req: Request, answer: ErrorAnswer): ErrorAnswer {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > REFUSED_BODY_DRAIN_BYTES) return { ...answer, headers: { ...answer.headers, connection: 'close' } };
  let drained = 0;
  const cut = (): void => {
    req.socket.destroy();
  };
  const timer = setTimeout(cut, REFUSED_BODY_DRAIN_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > REFUSED_BODY_DRAIN_BYTES) cut();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
  return answer;
}
