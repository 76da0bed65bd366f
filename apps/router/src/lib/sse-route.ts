import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { CorralError, parseSubmission, type StreamEvent, type Submission } from '@corral/contracts';
import { errorAnswer, sendError } from './answers';
import type { KeyRing } from './auth';
import { readJson } from './execution-route';
import { startLiveExecution, type LiveDeps, type LiveExecution } from './live-execution';
import type { StreamMetrics } from './stream-metrics';

export interface SseDeps extends LiveDeps {
  keys: KeyRing;
  streamMetrics: StreamMetrics;
}

/** True when the client asks for an event stream (`Accept: text/event-stream`). */
export function wantsEventStream(req: Request): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes('text/event-stream');
}

/** A submission a stream can answer: one execution, waited for, with no webhook. @throws CorralError invalid_request */
export function liveSubmission(submission: Submission, transport: string): Submission {
  if (!submission.wait || submission.callbackUrl) {
    throw new CorralError('invalid_request', `A ${transport} answers while the program runs: "wait": false and "callbackUrl" do not apply to it.`);
  }
  if (submission.tests) throw new CorralError('invalid_request', `Test cases are not streamed over a ${transport}; send them without it.`);
  return submission;
}

/** One SSE event: its name, and its data as one line of JSON. */
export function sseFrame(event: StreamEvent): string {
  if (event.type === 'result') return `event: result\ndata: ${JSON.stringify(event.result)}\n\n`;
  if (event.type === 'error') return `event: error\ndata: ${JSON.stringify({ code: event.code, message: event.message })}\n\n`;
  const data = event.test === undefined ? { seq: event.seq, data: event.data } : { seq: event.seq, data: event.data, test: event.test };
  return `event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * POST /v1/executions with `Accept: text/event-stream` (any other request goes on to the
 * blocking route): the request is checked as the blocking call's is (a bad one is the same
 * JSON error), then the answer is 200 `text/event-stream`: `stdout`/`stderr` events as the
 * program writes, a comment as a heartbeat after CORRAL_STREAM_HEARTBEAT_MS of silence, and
 * one `result` (or `error`, when it could not run: no slot in time, a key's limit…). A client
 * that leaves ends the execution at once. `?includeOutput=true` puts stdout and stderr in the result too.
 */
export function sseRoute(deps: SseDeps): (req: Request, res: Response, next: NextFunction) => Promise<void> {
  const { config, keys, streamMetrics, log } = deps;
  return async (req, res, next) => {
    if (!wantsEventStream(req)) return next();
    const requestId = randomUUID();
    res.set('x-request-id', requestId);
    let submission: Submission;
    let key;
    try {
      key = keys.identify(req.headers);
      submission = liveSubmission(parseSubmission(await readJson(req, config.maxBodyBytes), config.limits), 'stream');
    } catch (err) {
      return sendError(res, errorAnswer(err, log));
    }
    const includeOutput = req.query['includeOutput'] === 'true' || req.query['includeOutput'] === '1';
    const live = startLiveExecution(submission.job, { mode: 'fixed', includeOutput, key, requestId }, deps);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', 'x-request-id': requestId });
    res.flushHeaders();
    await pump(live, res, config.streamHeartbeatMs, streamMetrics);
  };
}

/** Writes the events to the response as they come, at the pace the client reads them; a client that leaves aborts the execution. */
async function pump(live: LiveExecution, res: Response, heartbeatMs: number, metrics: StreamMetrics): Promise<void> {
  metrics.opened('sse');
  let open = true;
  let done = false;
  res.once('close', () => {
    open = false;
    if (done) return;
    metrics.disconnected('sse');
    live.abort();
  });
  let heartbeat: NodeJS.Timeout | null = null;
  const beat = (): void => {
    if (heartbeat) clearTimeout(heartbeat);
    heartbeat = setTimeout(() => {
      if (open) res.write(': heartbeat\n\n');
      beat();
    }, heartbeatMs);
  };
  beat();
  try {
    for await (const event of live) {
      if (!open) break;
      beat();
      if (event.type === 'stdout' || event.type === 'stderr') metrics.streamed('sse', Buffer.byteLength(event.data));
      if (!res.write(sseFrame(event))) await drainOrClose(res);
    }
  } finally {
    done = true;
    if (heartbeat) clearTimeout(heartbeat);
    metrics.closed('sse');
    if (open) res.end();
  }
}

function drainOrClose(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const settle = (): void => {
      res.off('drain', settle);
      res.off('close', settle);
      resolve();
    };
    res.once('drain', settle);
    res.once('close', settle);
  });
}
