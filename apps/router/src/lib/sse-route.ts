import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { CorralError, parseSubmission, type ExecutionResult, type StreamEvent, type Submission } from '@corral/contracts';
import { errorAnswer, sendError } from './answers';
import type { KeyRing } from './auth';
import type { Background } from './background';
import { readJson } from './execution-route';
import { startLiveExecution, type LiveDeps } from './live-execution';
import type { StreamMetrics } from './stream-metrics';
import type { TestRun } from './tests-runner';

export interface SseDeps extends LiveDeps {
  keys: KeyRing;
  streamMetrics: StreamMetrics;
  /** Runs a submission's tests (admission, parallelism, verdicts) as the blocking call does. */
  background: Background;
}

/** True when the client asks for an event stream (`Accept: text/event-stream`). */
export function wantsEventStream(req: Request): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes('text/event-stream');
}

/** A submission a stream can answer: waited for, with no webhook; tests only where `tests` says so. @throws CorralError invalid_request */
export function liveSubmission(submission: Submission, transport: string, tests = true): Submission {
  if (!submission.wait || submission.callbackUrl) {
    throw new CorralError('invalid_request', `A ${transport} answers while the program runs: "wait": false and "callbackUrl" do not apply to it.`);
  }
  if (submission.tests && !tests) throw new CorralError('invalid_request', `Test cases are not run in a ${transport} (one interactive execution); send them over SSE or the blocking call.`);
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
 * one `result` (or `error`, when it could not run: no slot in time, a key's limit…). With
 * `tests`, each test runs live through the tests runner and its events carry its index; the
 * result is the tests' verdicts. A client that leaves ends the execution at once.
 * `?includeOutput=true` puts stdout and stderr in a single execution's result too.
 */
export function sseRoute(deps: SseDeps): (req: Request, res: Response, next: NextFunction) => Promise<void> {
  const { config, keys, streamMetrics, log, background } = deps;
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
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', 'x-request-id': requestId });
    res.flushHeaders();
    const writer = new SseWriter(res, config.streamHeartbeatMs, streamMetrics);
    try {
      if (!submission.tests) {
        const live = startLiveExecution(submission.job, { mode: 'fixed', includeOutput, key, requestId }, deps);
        writer.gone.addEventListener('abort', () => live.abort(), { once: true });
        for await (const event of live) if (!(await writer.send(event))) break;
        return;
      }
      const began = performance.now();
      const waited = await background.runWaited(submission, key, writer.gone, log.child({ requestId }), { testRun: liveTestRun(deps, writer) });
      if (waited.kind === 'stopped') return;
      // The submission counts once, as the blocking call counts it (its tests are not counted one by one).
      const seconds = (performance.now() - began) / 1000;
      if (waited.kind === 'answer') {
        deps.metrics.finished('tests' in waited.result ? waited.result.summary.status : waited.result.status, seconds);
        await writer.send({ type: 'result', result: waited.result as unknown as Record<string, unknown> });
      } else {
        const answer = errorAnswer(waited.error, log);
        deps.metrics.finished(answer.code, seconds);
        await writer.send({ type: 'error', code: answer.code, message: answer.message ?? waited.error.message });
      }
    } finally {
      writer.end();
    }
  };
}

/** Each test of a submission as a live execution of its own, its output sent as it comes with the test's index. */
function liveTestRun(deps: LiveDeps, writer: SseWriter): TestRun {
  return async (job, index, options) => {
    const live = startLiveExecution(job, { mode: 'fixed', includeOutput: true, key: options.key, test: index, usage: { rate: 0, inFlight: true }, reserve: options.reserve ?? 0 }, deps);
    const stop = (): void => live.abort();
    options.signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const event of live) {
        if (event.type === 'result') return { kind: 'result', result: event.result as ExecutionResult, attempts: 1 };
        if (event.type === 'error') return { kind: 'not_run', error: { code: event.code, message: event.message }, attempts: 0 };
        if (!(await writer.send(event))) break;
      }
      return { kind: 'stopped', shuttingDown: false };
    } finally {
      options.signal.removeEventListener('abort', stop);
    }
  };
}

/**
 * Writes events to an SSE answer at the pace the client reads them, with heartbeats while it is
 * silent; `gone` aborts when the client leaves first (each execution ends with it).
 */
class SseWriter {
  private readonly left = new AbortController();
  private done = false;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly res: Response,
    private readonly heartbeatMs: number,
    private readonly metrics: StreamMetrics,
  ) {
    metrics.opened('sse');
    res.once('close', () => {
      if (this.heartbeat) clearTimeout(this.heartbeat);
      if (this.done) return;
      this.done = true;
      metrics.closed('sse');
      metrics.disconnected('sse');
      this.left.abort(new Error('client went away'));
    });
    this.beat();
  }

  get gone(): AbortSignal {
    return this.left.signal;
  }

  private beat(): void {
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      if (this.done) return;
      this.res.write(': heartbeat\n\n');
      this.beat();
    }, this.heartbeatMs);
  }

  /** Resolves false once the client has gone. */
  async send(event: StreamEvent): Promise<boolean> {
    if (this.done) return false;
    this.beat();
    if (event.type === 'stdout' || event.type === 'stderr') this.metrics.streamed('sse', Buffer.byteLength(event.data));
    if (!this.res.write(sseFrame(event))) await drainOrClose(this.res);
    return !this.done;
  }

  end(): void {
    if (this.heartbeat) clearTimeout(this.heartbeat);
    if (this.done) return;
    this.done = true;
    this.metrics.closed('sse');
    this.res.end();
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
