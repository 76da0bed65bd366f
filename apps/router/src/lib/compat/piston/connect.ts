import type { WebSocket, RawData } from 'ws';
import type { ApiKey } from '@corral/config';
import { isStreamSignal, parsePistonExecute, pistonAnswer, SIGNAL_NUMBERS, type ExecutionResult, type PistonRuntime, type StreamEvent } from '@corral/contracts';
import { startLiveExecution, type LiveDeps, type LiveExecution } from '../../live-execution';
import type { StreamMetrics } from '../../stream-metrics';
import { frameBytes, frameText, keepAlive, MAX_SIGNALS } from '../../ws-frames';
import type { RuntimeVersion } from '../runtimes';
import { pistonRuntimes, resolvePiston } from './routes';

/** Piston's interactive endpoint (engineer-man/piston api/src/api/v2.js, `router.ws('/connect')`). */
export const PISTON_CONNECT_PATH = '/api/v2/connect';

/** Piston's close codes and reasons, as its v2.js sends them. */
export const PISTON_CLOSE = {
  alreadyInitialized: [4000, 'Already Initialized'],
  initializationTimeout: [4001, 'Initialization Timeout'],
  notifiedError: [4002, 'Notified Error'],
  notYetInitialized: [4003, 'Not yet initialized'],
  onlyStdin: [4004, 'Can only write to stdin'],
  invalidSignal: [4005, 'Invalid signal'],
  jobCompleted: [4999, 'Job Completed'],
} as const satisfies Record<string, readonly [number, string]>;

/** Piston closes a socket that sent no `init` within a second. */
export const PISTON_INIT_TIMEOUT_MS = 1000;

export interface PistonSocketDeps extends LiveDeps {
  streamMetrics: StreamMetrics;
  runtime: RuntimeVersion;
}

/**
 * One Piston `/api/v2/connect` session: `init` (Piston's execute body; its `stdin` is discarded,
 * as Piston's readme says), then `data` to stdin and `signal`; answered with `runtime`, `stage`,
 * `data` (stdout, stderr), `exit` and `error` messages and Piston's close codes. It is one more
 * rendering of corral's live execution: the same dispatch, limits and caps as corral's own socket.
 */
export class PistonSession {
  private live: LiveExecution | null = null;
  private initialized = false;
  private finished = false;
  private stdinBytes = 0;
  private signals = 0;
  private readonly initTimer: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly key: ApiKey | null,
    private readonly frameLimit: number,
    private readonly deps: PistonSocketDeps,
  ) {
    deps.streamMetrics.opened('websocket');
    this.initTimer = setTimeout(() => this.close(PISTON_CLOSE.initializationTimeout), PISTON_INIT_TIMEOUT_MS);
    // As corral's own socket: pings (every WebSocket client answers them), so that a client cut off mid-run frees its slot.
    keepAlive(ws, deps.config.streamHeartbeatMs);
    ws.on('error', () => undefined); // a close follows
    ws.on('message', (data) => void this.onMessage(data));
    ws.once('close', () => {
      clearTimeout(this.initTimer);
      deps.streamMetrics.closed('websocket');
      if (!this.finished) {
        this.finished = true;
        if (this.live) deps.streamMetrics.disconnected('websocket');
        this.live?.abort();
      }
    });
  }

  private async onMessage(data: RawData): Promise<void> {
    if (this.finished) return;
    const bytes = frameBytes(data);
    if (bytes > this.frameLimit) return this.error(`A message may be ${this.frameLimit} bytes; this one is ${bytes}.`);
    let msg: Record<string, unknown>;
    try {
      // Piston parses any frame, text or binary, as JSON.
      const parsed: unknown = JSON.parse(frameText(data));
      msg = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch (err) {
      // Piston answers what JSON.parse threw, then 4002.
      return this.error((err as Error).message);
    }
    switch (msg['type']) {
      case 'init':
        if (this.initialized) return this.close(PISTON_CLOSE.alreadyInitialized);
        this.initialized = true;
        clearTimeout(this.initTimer);
        return this.init(msg);
      case 'data':
        if (!this.live) return this.close(PISTON_CLOSE.notYetInitialized);
        if (msg['stream'] !== 'stdin') return this.close(PISTON_CLOSE.onlyStdin);
        return this.stdin(String(msg['data'] ?? ''));
      case 'signal':
        if (!this.live) return this.close(PISTON_CLOSE.notYetInitialized);
        return this.signal(msg['signal']);
      default:
      // Piston ignores any other message.
    }
  }

  private async init(msg: Record<string, unknown>): Promise<void> {
    let job;
    let rt: PistonRuntime;
    try {
      const runtimes = pistonRuntimes(await this.deps.runtime.get());
      ({ job, runtime: rt } = parsePistonExecute({ ...msg, stdin: '' }, (language, selector) => resolvePiston(runtimes, language, selector), this.deps.config.limits));
    } catch (err) {
      return this.error((err as Error).message);
    }
    if (this.finished) return;
    // Piston's stdin is the socket's alone: discarded from init, never ended.
    const live = startLiveExecution({ ...job, stdin: '' }, { mode: 'interactive', includeOutput: false, key: this.key }, this.deps);
    this.live = live;
    this.send({ type: 'runtime', language: rt.language, version: rt.version });
    this.send({ type: 'stage', stage: 'run' });
    void this.pump(live, rt);
  }

  private stdin(data: string): void {
    this.stdinBytes += Buffer.byteLength(data);
    const limit = this.deps.config.limits.maxStdinBytes;
    if (this.stdinBytes > limit) return this.error(`stdin may be ${limit} bytes in all; this session sent ${this.stdinBytes}.`);
    this.live?.writeStdin(data);
  }

  /** SIGINT and SIGTERM reach the program; SIGKILL ends the job; Piston's other names are refused as Piston refuses unknown ones. */
  private signal(signal: unknown): void {
    if (++this.signals > MAX_SIGNALS) return this.error(`A session may send ${MAX_SIGNALS} signals.`);
    if (signal === 'SIGKILL') {
      this.live?.abort();
      this.send({ type: 'exit', stage: 'run', code: null, signal: 'SIGKILL' });
      return this.close(PISTON_CLOSE.jobCompleted);
    }
    if (typeof signal !== 'string' || !(signal in SIGNAL_NUMBERS) || !isStreamSignal(signal)) return this.close(PISTON_CLOSE.invalidSignal);
    this.live?.signal(signal);
  }

  private async pump(live: LiveExecution, rt: PistonRuntime): Promise<void> {
    let last: StreamEvent | null = null;
    for await (const event of live) {
      if (this.finished) break;
      last = event;
      if (event.type === 'stdout' || event.type === 'stderr') {
        this.deps.streamMetrics.streamed('websocket', Buffer.byteLength(event.data));
        // One message at a time, each once written: a slow reader slows the stream.
        await new Promise<void>((resolve) => this.ws.send(JSON.stringify({ type: 'data', stream: event.type, data: event.data }), () => resolve()));
      }
    }
    if (this.finished) return;
    if (last?.type === 'result') {
      const { run } = pistonAnswer(rt, last.result as ExecutionResult);
      this.send({ type: 'exit', stage: 'run', code: run.code, signal: run.signal });
      return this.close(PISTON_CLOSE.jobCompleted);
    }
    // It did not run (queue full, the key's limits, a worker lost before it started): Piston's error, then 4002.
    this.error(last?.type === 'error' ? (last.message ?? last.code) : 'the execution ended without a result');
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Piston's fatal error: an `error` message, then 4002 (a close reason is limited to 123 bytes). */
  private error(message: string): void {
    if (this.finished) return;
    this.send({ type: 'error', message });
    this.close(PISTON_CLOSE.notifiedError);
  }

  private close([code, reason]: readonly [number, string]): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.initTimer);
    this.live?.abort();
    this.ws.close(code, reason);
  }
}
