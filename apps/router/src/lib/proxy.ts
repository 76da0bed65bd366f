import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
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
  | { kind: 'failed'; reason: string };

/** Connection errors that prove the request never reached a worker. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN']);

/** Maps a proxy error to an attempt outcome: retry elsewhere only when the job cannot have started. */
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

interface Pending {
  resolve(attempt: Attempt): void;
}

/**
 * How long a connection to a slot may sit unused before the router closes it: under the
 * workers' own keep-alive timeout, so that the router, not the worker, normally closes it.
 */
const IDLE_CONNECTION_MS = WORKER_KEEP_ALIVE_MS - 10_000;

/**
 * One http-proxy instance for the router; a target per request; the hand-over's outcome as a value.
 * Connections to the slots are kept open between jobs: a new TCP connection per job cost about
 * 1 ms on the job's path. A connection the worker closed just as the router reused it fails like
 * any other; the router then asks the registry whether the job started (see dispatch.ts), so a reused
 * connection never makes a job run twice.
 */
export class WorkerProxy {
  private readonly proxy: ProxyServer;
  private readonly pending = new WeakMap<IncomingMessage, Pending>();
  private readonly agent = new Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' });

  constructor() {
    this.proxy = createProxyServer({ selfHandleResponse: true, xfwd: false, agent: this.agent });
    this.proxy.on('proxyReq', (proxyReq) => {
      // The body is re-serialised; nothing of the client's own credentials goes to a worker.
      for (const header of ['authorization', 'cookie', 'transfer-encoding', 'expect', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization']) {
        proxyReq.removeHeader(header);
      }
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => {
      const pending = this.pending.get(req);
      if (!pending) return;
      this.pending.delete(req);
      const status = proxyRes.statusCode ?? 502;
      const errorCode = proxyRes.headers[ERROR_HEADER];
      const early = classifyWorkerAnswer(status, typeof errorCode === 'string' ? errorCode : undefined);
      if (early) {
        proxyRes.resume();
        pending.resolve(early);
        return;
      }
      const headers: Record<string, string | string[]> = {};
      for (const name of ['content-type', 'content-length', STATUS_HEADER]) {
        const value = proxyRes.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      (res as ServerResponse).writeHead(status, headers);
      proxyRes.pipe(res as ServerResponse);
      const executionStatus = proxyRes.headers[STATUS_HEADER];
      pending.resolve({ kind: 'answered', httpStatus: status, executionStatus: typeof executionStatus === 'string' ? executionStatus : undefined });
    });
  }

  /** Hands `body` (a validated job) to the worker holding `lease`; streams its answer to `res`. */
  forward(req: IncomingMessage, res: ServerResponse, lease: Lease, body: Buffer, requestId: string, timeoutMs: number): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      this.pending.set(req, { resolve });
      this.proxy.web(
        req,
        res,
        {
          target: `http://${lease.ip}:${lease.port}${WORKER_RUN_PATH}`,
          ignorePath: true,
          buffer: Readable.from([body]),
          proxyTimeout: timeoutMs,
          headers: {
            'content-type': 'application/json',
            'content-length': String(body.length),
            // Hop by hop: the client's own wish (close, say) is not the router's connection's.
            connection: 'keep-alive',
            [TOKEN_HEADER]: lease.token,
            [REQUEST_ID_HEADER]: requestId,
          },
        },
        (err) => {
          this.pending.delete(req);
          resolve(classifyProxyError(err));
        },
      );
    });
  }

  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }
}
