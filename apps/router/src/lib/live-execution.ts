import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ApiKey, RouterConfig } from '@corral/config';
import { ERROR_CATALOGUE, type ControlMessage, type ErrorCode, type Job, type StreamEvent, type StreamSignal } from '@corral/contracts';
import type { AdmissionUsage, Registry } from '@corral/registry';
import type { Logger } from '@corral/service';
import { outcomeAnswer, outcomeLabel } from './answers';
import { dispatchExecution } from './dispatch';
import type { RouterMetrics } from './metrics';
import type { SlotQueue } from './slot-queue';
import type { LiveSink, StreamProxy } from './stream-proxy';

/** What a live execution runs with: the blocking call's ports, and the live hand-over. */
export interface LiveDeps {
  config: Readonly<RouterConfig>;
  registry: Registry;
  queue: SlotQueue;
  streamProxy: StreamProxy;
  metrics: RouterMetrics;
  log: Logger;
}

export interface LiveOptions {
  /** `interactive`: stdin stays open for writeStdin until endStdin; `fixed`: the job's stdin, ended. */
  mode: 'interactive' | 'fixed';
  /** The result carries stdout and stderr too (they are streamed either way). */
  includeOutput: boolean;
  key: ApiKey | null;
  requestId?: string;
  /** Carried by each output event (a submission's test). */
  test?: number;
  /** What the key's admission counts (see DispatchContext.usage): a submission's test counts only in flight. */
  usage?: AdmissionUsage;
  /** Idle slots left to clients' own requests (a submission's tests). */
  reserve?: number;
}

/**
 * One execution whose output comes as it is written: iterate it for its events (output chunks,
 * then one `result` or `error`); the iteration ends after the last. While the consumer does
 * not take events, at most HIGH_WATER_BYTES of them wait here: beyond, the worker's answer is
 * no longer read, so the worker stops reading the program's pipes and the program blocks.
 */
export interface LiveExecution extends AsyncIterable<StreamEvent> {
  /** True once the job runs on a slot; false when it ended without running. */
  readonly started: Promise<boolean>;
  /** More stdin (interactive mode); held until the job has its sandbox. */
  writeStdin(data: string): void;
  endStdin(): void;
  signal(name: StreamSignal): void;
  /** Ends it now: a queued request leaves the queue, a running job is killed (its slot freed). */
  abort(): void;
}

/** Output waiting for a slow consumer, at most (then the worker's answer is paused). */
const HIGH_WATER_BYTES = 256 * 1024;

/**
 * Starts a live execution through the one dispatch of the blocking call: the key's admission
 * and limits, the shared queue, the claim, the hand-over (live, NDJSON), and a retry on another
 * slot only when the job cannot have started; never a second run after output was sent.
 */
export function startLiveExecution(job: Job, options: LiveOptions, deps: LiveDeps): LiveExecution {
  const { config, registry, queue, streamProxy, metrics } = deps;
  const requestId = options.requestId ?? randomUUID();
  const log = deps.log.child({ requestId, live: options.mode });
  const stop = new AbortController();
  const events: StreamEvent[] = [];
  let waitingBytes = 0;
  let resumeAnswer: (() => void) | null = null;
  let wake: (() => void) | null = null;
  let ended = false;
  let seq = 0;
  let control: ((message: ControlMessage) => void) | null = null;
  const early: ControlMessage[] = [];
  let markStarted: (started: boolean) => void = () => undefined;
  const started = new Promise<boolean>((resolve) => (markStarted = resolve));

  const push = (event: StreamEvent): void => {
    events.push(event);
    wake?.();
  };
  const finish = (event: StreamEvent | null): void => {
    if (ended) return;
    if (event) push(event);
    ended = true;
    markStarted(false);
    wake?.();
  };
  const sink: LiveSink = {
    started(write) {
      control = write;
      for (const message of early.splice(0)) write(message);
      markStarted(true);
    },
    output(type, data, resume) {
      push({ type, seq: seq++, data, ...(options.test === undefined ? {} : { test: options.test }) });
      waitingBytes += Buffer.byteLength(data);
      if (waitingBytes <= HIGH_WATER_BYTES) return true;
      resumeAnswer = resume;
      return false;
    },
    result(result) {
      finish({ type: 'result', result });
    },
    error(code, message) {
      finish({ type: 'error', code, message });
    },
  };
  const send = (message: ControlMessage): void => {
    if (ended) return;
    if (control) control(message);
    else early.push(message);
  };

  const began = performance.now();
  void dispatchExecution(job, {
    requestId,
    key: options.key,
    arrivedAt: Date.now(),
    signal: stop.signal,
    handOver: (lease, timeoutMs) =>
      streamProxy.run(lease, job, { interactive: options.mode === 'interactive', includeOutput: options.includeOutput }, requestId, timeoutMs, stop.signal, sink),
    queueTimeoutMs: config.queueTimeoutMs,
    maxRetries: config.maxRetries,
    ports: { admission: registry.admission, slots: queue, claims: registry.queue, metrics, clock: Date, log },
    ...(options.usage ? { usage: options.usage } : {}),
    ...(options.reserve ? { reserve: options.reserve } : {}),
  })
    .then((outcome) => {
      // A submission's tests are counted once, as the submission (by the tests runner's caller).
      const label = options.test === undefined ? outcomeLabel(outcome) : null;
      if (label) metrics.finished(label, (performance.now() - began) / 1000);
      const answer = outcomeAnswer(outcome);
      finish(answer ? errorEvent(answer.code, answer.message) : null);
    })
    .catch((err: unknown) => {
      log.error({ err }, 'live execution failed');
      finish(errorEvent('internal'));
    });

  return {
    started,
    writeStdin: (data) => send({ type: 'stdin', data }),
    endStdin: () => send({ type: 'stdin_end' }),
    signal: (signal) => send({ type: 'signal', signal }),
    abort() {
      stop.abort(new Error('the live execution was ended'));
      finish(null);
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const event = events.shift();
        if (event) {
          if (event.type === 'stdout' || event.type === 'stderr') waitingBytes -= Buffer.byteLength(event.data);
          if (resumeAnswer && waitingBytes <= HIGH_WATER_BYTES / 2) {
            const resume = resumeAnswer;
            resumeAnswer = null;
            resume();
          }
          yield event;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    },
  };
}

function errorEvent(code: ErrorCode, message?: string): StreamEvent {
  return { type: 'error', code, message: message ?? defaultMessage(code) };
}

function defaultMessage(code: ErrorCode): string {
  return ERROR_CATALOGUE[code].message;
}
