import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CorralError, parseExecutionRequest, REQUEST_ID_HEADER, STATUS_HEADER, STREAM_HEADER, TOKEN_HEADER, WORKER_KEEP_ALIVE_MS, WORKER_RUN_PATH, type ExecutionLimits } from '@corral/contracts';
import type { Logger } from '@corral/service';
import { readBody, sendError, sendJson } from '../http';
import { toExecutionResult } from '../outcome';
import { serveLive } from './live-server';
import type { SlotLifecycle } from './lifecycle';

/**
 * The slot's HTTP side: one server on the slot's own address that takes a job under a lease's
 * token, hands it to the lifecycle and answers with its result. Nothing of the slot's state is here.
 */
export class SlotServer {
  private readonly server: Server;
  private readonly bodyLimit: number;

  constructor(
    private readonly lifecycle: SlotLifecycle,
    private readonly limits: ExecutionLimits,
    private readonly log: Logger,
  ) {
    // JSON escaping can make a byte six; the router has already checked the real limits.
    this.bodyLimit = (limits.maxCodeBytes + limits.maxStdinBytes + limits.maxArgs * limits.maxArgBytes + limits.maxFilesBytes) * 6 + 65_536;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err }, 'request failed');
        sendError(res, err instanceof CorralError ? err : 'internal');
      });
    });
    // Routers keep their connection to the slot between jobs (and close it first).
    this.server.keepAliveTimeout = WORKER_KEEP_ALIVE_MS;
  }

  /** Binds `port` on the slot's address. @throws on EADDRNOTAVAIL and the like */
  listen(port: number, ip: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, ip, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops taking connections; `finish` ends the open ones (keep-alive from routers) and resolves when all are closed. */
  stopAccepting(): { finish(): Promise<void> } {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    return {
      finish: () => {
        this.server.closeAllConnections();
        return stopped;
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== WORKER_RUN_PATH) return sendError(res, 'not_found');
    if (req.method !== 'POST') return sendError(res, 'method_not_allowed');
    if (this.lifecycle.closed) return sendError(res, 'shutting_down');
    const token = req.headers[TOKEN_HEADER];
    if (typeof token !== 'string' || token === '') return sendError(res, 'bad_token');
    const id = (req.headers[REQUEST_ID_HEADER] as string | undefined) || randomUUID();
    if (req.headers[STREAM_HEADER] === '1') return serveLive(req, res, this.lifecycle, token, id, this.limits, this.bodyLimit, this.log.child({ requestId: id }));
    const body = await readBody(req, this.bodyLimit);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return sendError(res, 'invalid_json');
    }
    const job = parseExecutionRequest(parsed, this.limits);
    const log = this.log.child({ requestId: id });
    // The router went away (its client left): nobody waits for the result, so the job ends at
    // once, also when the connection closed before the job had its sandbox.
    let running: { kill(): void } | null = null;
    let gone = false;
    res.once('close', () => {
      if (res.writableFinished) return;
      gone = true;
      running?.kill();
    });
    const outcome = await this.lifecycle.run(token, job, (sandbox) => {
      running = sandbox;
      if (gone) sandbox.kill();
    });
    if (outcome.kind === 'refused') {
      log.warn({ outcome: outcome.code, detail: outcome.detail }, 'job refused');
      if (outcome.code === 'unavailable') return sendError(res, 'unavailable', 'The registry (Redis) cannot be reached; the job did not start.');
      return sendError(res, outcome.code);
    }
    const result = toExecutionResult(id, outcome.run, outcome.killReason);
    sendJson(res, 200, result, { [STATUS_HEADER]: result.status }); // the answer first, then the log line
    log.info({ status: result.status, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs, cpuMs: result.cpuMs }, 'job done');
  }
}
