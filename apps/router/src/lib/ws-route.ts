import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ApiKey } from '@corral/config';
import { CLOSE_CODES, closeCodeFor, CorralError, parseClientMessage, parseSubmission, STREAM_PATH, type ErrorCode, type StreamEvent } from '@corral/contracts';
import { errorAnswer } from './answers';
import type { KeyRing } from './auth';
import { startLiveExecution, type LiveDeps, type LiveExecution } from './live-execution';
import { liveSubmission } from './sse-route';
import type { StreamMetrics } from './stream-metrics';
import { frameBytes, frameText, keepAlive, MAX_SIGNALS } from './ws-frames';
import { PISTON_CONNECT_PATH, PistonSession } from './compat/piston/connect';
import type { RuntimeVersion } from './compat/runtimes';

export interface StreamSocketDeps extends LiveDeps {
  keys: KeyRing;
  streamMetrics: StreamMetrics;
  /** The sandbox runtime's version, for Piston's `/api/v2/connect` sessions on the same server. */
  runtime: RuntimeVersion;
}

/** The WebSocket message of an event: the same fields as SSE's, with `type`; a result's fields at the top. */
export function socketMessage(event: StreamEvent): string {
  if (event.type === 'result') return JSON.stringify({ type: 'result', ...event.result });
  return JSON.stringify(event);
}

/**
 * A frame this much over the limit is refused by ws itself (close 1009, no `error` message):
 * ws reads a whole frame before it hands it over, so this bounds what one connection holds.
 */
const HARD_FRAME_FACTOR = 2;

/**
 * GET /v1/executions/stream: the WebSocket session of one live execution (see
 * docs/streaming.md). The upgrade is refused with the usual JSON error for another path or a
 * missing API key; the session then follows the protocol of libs/contracts/src/stream.ts.
 */
export function attachStreamSocket(server: Server, deps: StreamSocketDeps): { close(): void } {
  const { config, keys, log } = deps;
  const frameLimit = config.maxBodyBytes;
  const wss = new WebSocketServer({ noServer: true, maxPayload: frameLimit * HARD_FRAME_FACTOR, perMessageDeflate: false });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'http://router').pathname;
    let key: ApiKey | null;
    try {
      if (path !== STREAM_PATH && path !== PISTON_CONNECT_PATH) throw new CorralError('not_found', `WebSocket sessions are at ${STREAM_PATH} (and Piston's at ${PISTON_CONNECT_PATH}).`);
      key = keys.identify(req.headers);
    } catch (err) {
      return refuseUpgrade(socket, err, log);
    }
    if (path === PISTON_CONNECT_PATH) return wss.handleUpgrade(req, socket, head, (ws) => new PistonSession(ws, key, frameLimit, deps));
    wss.handleUpgrade(req, socket, head, (ws) => new StreamSession(ws, key, frameLimit, deps));
  });
  return {
    close() {
      for (const client of wss.clients) client.close(1001, 'shutting_down');
      wss.close();
    },
  };
}

function refuseUpgrade(socket: Duplex, err: unknown, log: LiveDeps['log']): void {
  const answer = errorAnswer(err, log);
  const error = new CorralError(answer.code, answer.message);
  const body = JSON.stringify(error.toBody());
  const extra = Object.entries(answer.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${error.httpStatus} ${error.code}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra.join('')}connection: close\r\n\r\n${body}`,
  );
}

/** One client's session: waiting for `start`, then its live execution, then closed. */
class StreamSession {
  private live: LiveExecution | null = null;
  private stdinBytes = 0;
  private stdinEnded = false;
  private signals = 0;
  private finished = false;
  private readonly startTimer: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly key: ApiKey | null,
    private readonly frameLimit: number,
    private readonly deps: StreamSocketDeps,
  ) {
    deps.streamMetrics.opened('websocket');
    this.startTimer = setTimeout(() => this.fail('request_timeout', `No start message within ${deps.config.bodyTimeoutMs} ms.`), deps.config.bodyTimeoutMs);
    keepAlive(ws, deps.config.streamHeartbeatMs);
    ws.on('error', () => undefined); // a close follows
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.once('close', () => {
      clearTimeout(this.startTimer);
      deps.streamMetrics.closed('websocket');
      if (!this.finished) {
        this.finished = true;
        if (this.live) deps.streamMetrics.disconnected('websocket');
        this.live?.abort();
      }
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.finished) return;
    if (isBinary) return this.fail('stream_protocol', 'Binary frames are not part of the protocol: send JSON text.', CLOSE_CODES.binary);
    const bytes = frameBytes(data);
    if (bytes > this.frameLimit) return this.fail('stream_frame_too_large', `A message may be ${this.frameLimit} bytes; this one is ${bytes}.`);
    let message;
    try {
      message = parseClientMessage(frameText(data));
    } catch (err) {
      return this.failWith(err);
    }
    if (message.type === 'start') return this.start(message.request, message.includeOutput);
    const live = this.live;
    if (!live) return this.fail('stream_not_started', `Send {"type":"start", …} before "${message.type}".`);
    if (message.type === 'signal') {
      // Each signal is a line to the worker and a kill(2) there: a session gets a few, not a flood.
      if (++this.signals > MAX_SIGNALS) return this.fail('stream_protocol', `A session may send ${MAX_SIGNALS} signals.`);
      return live.signal(message.signal);
    }
    if (this.stdinEnded) return this.fail('stream_protocol', 'stdin was ended already.');
    if (message.type === 'stdin_end') {
      this.stdinEnded = true;
      return live.endStdin();
    }
    this.stdinBytes += Buffer.byteLength(message.data);
    const limit = this.deps.config.limits.maxStdinBytes;
    if (this.stdinBytes > limit) return this.fail('stream_frame_too_large', `stdin may be ${limit} bytes in all; this session sent ${this.stdinBytes}.`);
    live.writeStdin(message.data);
  }

  private start(request: Record<string, unknown>, includeOutput: boolean): void {
    if (this.live) return this.fail('stream_already_started', 'This session has started its execution already; open another for another.');
    clearTimeout(this.startTimer);
    let job;
    try {
      job = liveSubmission(parseSubmission(request, this.deps.config.limits), 'WebSocket session', false).job;
    } catch (err) {
      return this.failWith(err);
    }
    this.stdinBytes = Buffer.byteLength(job.stdin);
    this.live = startLiveExecution(job, { mode: 'interactive', includeOutput, key: this.key }, this.deps);
    void this.pump(this.live);
  }

  private async pump(live: LiveExecution): Promise<void> {
    let last: StreamEvent | null = null;
    for await (const event of live) {
      if (this.finished) break;
      last = event;
      if (event.type === 'stdout' || event.type === 'stderr') this.deps.streamMetrics.streamed('websocket', Buffer.byteLength(event.data));
      // One message at a time, each once written to the socket: a slow reader slows the stream.
      await new Promise<void>((resolve) => this.ws.send(socketMessage(event), () => resolve()));
    }
    if (this.finished) return;
    this.finished = true;
    this.ws.close(last?.type === 'error' ? closeCodeFor(last.code) : CLOSE_CODES.done, last?.type === 'error' ? last.code : 'done');
  }

  private failWith(err: unknown): void {
    const answer = errorAnswer(err, this.deps.log);
    this.fail(answer.code, answer.message ?? new CorralError(answer.code).message);
  }

  /** Answers a broken rule with an `error` message and closes with its code; a running execution ends with it. */
  private fail(code: ErrorCode, message: string, closeCode = closeCodeFor(code)): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.startTimer);
    this.live?.abort();
    this.ws.send(JSON.stringify({ type: 'error', code, message }));
    this.ws.close(closeCode, code);
  }
}
