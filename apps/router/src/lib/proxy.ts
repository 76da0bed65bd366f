import { Agent, request, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  ERROR_HEADER,
  isErrorCode,
  REQUEST_ID_HEADER,
  STATUS_HEADER,
  TOKEN_HEADER,
  WORKER_KEEP_ALIVE_MS,
  WORKER_RUN_PATH,
  type ErrorCode,
  type Lease,
} from '@corral/contracts';

/** How one hand-over to a worker ended. */
export type Attempt =
  | { kind: 'answered'; httpStatus: number; executionStatus: string | undefined }
  /** The worker never took the job (refused the connection, or refused the job before starting it). */
  | { kind: 'not_started'; slotDead: boolean; reason: string }
  /** The connection failed after the job was handed over: it may have run, so it is not retried. */
  | { kind: 'failed'; reason: string }
  /**
   * The client went away before the worker answered. The connection to the worker was cut: a
   * worker stops a job whose router connection closes and puts its slot back itself; a claim it
   * never used is the router's to give back.
   */
  | { kind: 'client_gone' };

/** A hand-over whose answer was read whole: `body` is the worker's JSON (a result, or an error about the job). */
export type CollectedAttempt = Attempt | (Extract<Attempt, { kind: 'answered' }> & { body: unknown });

/** The most of a worker's answer the router reads whole: output at its cap, JSON-escaped, and collected files. */
const MAX_COLLECTED_BYTES = 64 * 1024 * 1024;

function answeredAttempt(answer: IncomingMessage, status: number): Extract<Attempt, { kind: 'answered' }> {
  const executionStatus = answer.headers[STATUS_HEADER];
  return { kind: 'answered', httpStatus: status, executionStatus: typeof executionStatus === 'string' ? executionStatus : undefined };
}

/** Connection errors that prove the request never reached a worker. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN']);

/** Maps a connection error to an attempt outcome: retry elsewhere only when the job cannot have started. */
export function classifyProxyError(err: unknown): Attempt {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
  if (NEVER_CONNECTED.has(code)) return { kind: 'not_started', slotDead: true, reason: code };
  return { kind: 'failed', reason: code };
}

/**
 * The error codes a worker answers before it starts a job, and whether its slot can still take
 * jobs: a token the registry no longer honours, a slot already busy (the slot is fine); a worker
 * shutting down, one that cannot reach the registry, a path that is not corral's (it is not).
 */
const NOT_STARTED: Partial<Record<ErrorCode, { slotDead: boolean }>> = {
  bad_token: { slotDead: false },
  slot_busy: { slotDead: false },
  shutting_down: { slotDead: true },
  unavailable: { slotDead: true },
  not_found: { slotDead: true },
};

/**
 * What a worker's answer means for the hand-over, from the error code it names in ERROR_HEADER:
 * null when it is the answer to the job (a result, or an error about the job itself) and goes
 * to the client. An error answer without a catalogue code is not the worker contract (another
 * server, another version): the job may have started, so it counts as a failure after the
 * hand-over, which the registry settles.
 */
export function classifyWorkerAnswer(httpStatus: number, errorCode: string | undefined): Attempt | null {
  if (httpStatus < 400) return null;
  if (!isErrorCode(errorCode)) return { kind: 'failed', reason: `worker answered ${httpStatus} without an error code` };
  const early = NOT_STARTED[errorCode];
  return early ? { kind: 'not_started', slotDead: early.slotDead, reason: `worker answered ${errorCode}` } : null;
}

/** The worker's headers that reach the client; nothing else of its answer does. */
const PASSED_HEADERS = ['content-type', 'content-length', STATUS_HEADER] as const;

/**
 * How long a connection to a slot may sit unused before the router closes it: under the
 * workers' own keep-alive timeout, so that the router, not the worker, normally closes it.
 */
const IDLE_CONNECTION_MS = WORKER_KEEP_ALIVE_MS - 10_000;

/**
 * Hands jobs to workers over plain `http.request` with one keep-alive agent: a new TCP
 * connection per job cost about 1 ms on the job's path. A connection the worker closed just as
 * the router reused it fails like any other; the router then asks the registry whether the job
 * started (see dispatch.ts), so a reused connection never makes a job run twice.
 *
 * Not a proxy library: the body is the router's own validated job, the path and headers are
 * fixed, and the answer is read before it is passed on, so a proxy adds nothing but a layer
 * between the router and the events it must see. http-proxy-3 was that layer, and it swallowed
 * the one that matters most: when the client's socket was destroyed it cut the connection to
 * the worker but reported the reset as an `econnreset` event instead of calling back, so the
 * hand-over never ended and a claim the worker never used was never given back.
 */
export class WorkerProxy {
  private readonly agent = new Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' });

  /**
   * Hands `body` (a validated job) to the worker holding `lease` and streams its answer to `res`.
   * `clientGone` aborts when the client leaves: the connection to the worker is cut at once.
   * `timeoutMs` bounds the wait for the worker's answer. Never rejects.
   */
  forward(res: ServerResponse, lease: Lease, body: Buffer, requestId: string, timeoutMs: number, clientGone: AbortSignal): Promise<Attempt> {
    return this.handOver(lease, body, requestId, timeoutMs, clientGone, (answer, status, settle) => {
      const headers: Record<string, string | string[]> = {};
      for (const name of PASSED_HEADERS) {
        const value = answer.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      res.writeHead(status, headers);
      // Either side cut while the answer streams cuts the other: a client that leaves drops the
      // connection to the worker; a worker that dies mid-answer leaves the client a cut answer,
      // never a hanging one. (pipe, not pipeline: pipeline's own listeners on `res` are many.)
      answer.pipe(res);
      answer.once('close', () => {
        if (!answer.complete) res.destroy();
      });
      res.once('close', () => {
        if (!answer.complete) answer.destroy();
      });
      settle(answeredAttempt(answer, status));
    });
  }

  /**
   * Hands `body` to the worker holding `lease` and reads its whole answer (at most
   * MAX_COLLECTED_BYTES): for the router's own use of a result (tests, background executions,
   * webhooks), where nothing is streamed to a client. Never rejects.
   */
  collect(lease: Lease, body: Buffer, requestId: string, timeoutMs: number, cancelled: AbortSignal): Promise<CollectedAttempt> {
    return this.handOver<CollectedAttempt>(lease, body, requestId, timeoutMs, cancelled, (answer, status, settle) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      answer.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_COLLECTED_BYTES) answer.destroy(Object.assign(new Error('answer too large'), { code: 'ETOOBIG' }));
        else chunks.push(chunk);
      });
      answer.once('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          settle({ kind: 'failed', reason: 'worker answered what is not JSON' });
          return;
        }
        settle({ ...answeredAttempt(answer, status), body: parsed });
      });
      // Cut before its end: the job may have run, so it is a failure after the hand-over.
      answer.once('close', () => {
        if (!answer.complete) settle({ kind: 'failed', reason: 'the answer was cut' });
      });
    });
  }

  /** The hand-over both share (see `handOverTo`), with the job as the whole body. */
  private handOver<A extends Attempt>(
    lease: Lease,
    body: Buffer,
    requestId: string,
    timeoutMs: number,
    clientGone: AbortSignal,
    consume: (answer: IncomingMessage, status: number, settle: (attempt: A | Attempt) => void) => void,
  ): Promise<A | Attempt> {
    // Only the router's own headers: nothing of the client's (credentials, hop-by-hop wishes) reaches a worker.
    const headers = { 'content-type': 'application/json', 'content-length': String(body.length), [TOKEN_HEADER]: lease.token, [REQUEST_ID_HEADER]: requestId };
    return handOverTo<A>(this.agent, lease, headers, timeoutMs, clientGone, (upstream) => upstream.end(body), consume);
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * One hand-over: the request to the worker holding `lease` (its body written by `write`), its
 * timeout, the client's (or the canceller's) abort, the worker's answers that mean the job
 * never started; `consume` takes an answer to the job and settles the attempt. `lateAnswer`: what
 * the deadline means once an answer is being read (a live answer waits on its client). Never rejects.
 */
export function handOverTo<A extends Attempt>(
  agent: Agent,
  lease: Lease,
  headers: Record<string, string>,
  timeoutMs: number,
  stop: AbortSignal,
  write: (upstream: ClientRequest) => void,
  consume: (answer: IncomingMessage, status: number, settle: (attempt: A | Attempt) => void, upstream: ClientRequest) => void,
  lateAnswer: 'failed' | 'client_gone' = 'failed',
): Promise<A | Attempt> {
  if (stop.aborted) return Promise.resolve({ kind: 'client_gone' });
  return new Promise<A | Attempt>((resolve) => {
    const upstream = request({ agent, host: lease.ip, port: lease.port, method: 'POST', path: WORKER_RUN_PATH, headers });
    let settled = false;
    const settle = (attempt: A | Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
      resolve(attempt);
    };
    const onStop = (): void => {
      upstream.destroy();
      settle({ kind: 'client_gone' });
    };
    let answering = false;
    const timer = setTimeout(() => {
      // A live answer still being read at the deadline waits on its client, which did not take its
      // output in time: the worker is fine (cutting the connection stops the job and frees the slot).
      if (answering && lateAnswer === 'client_gone') return onStop();
      upstream.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    stop.addEventListener('abort', onStop, { once: true });
    upstream.on('error', (err) => settle(classifyProxyError(err)));
    upstream.on('response', (answer) => {
      answer.on('error', () => undefined); // a cut answer is handled on its 'close'
      const status = answer.statusCode ?? 502;
      const errorCode = answer.headers[ERROR_HEADER];
      const early = classifyWorkerAnswer(status, typeof errorCode === 'string' ? errorCode : undefined);
      if (early) {
        answer.resume();
        // A request still open (a live job's) ends here: nothing more goes to this worker.
        if (!upstream.writableEnded) upstream.destroy();
        settle(early);
        return;
      }
      answering = true;
      consume(answer, status, settle, upstream);
    });
    write(upstream);
  });
}
