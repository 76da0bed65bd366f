import { Agent, type ClientRequest, type IncomingMessage } from 'node:http';
import {
  isErrorCode,
  REQUEST_ID_HEADER,
  STREAM_HEADER,
  TOKEN_HEADER,
  WORKER_KEEP_ALIVE_MS,
  type ControlMessage,
  type ErrorCode,
  type ExecutionResult,
  type Job,
  type Lease,
  type LiveJobHeader,
  type OutputStream,
  type WorkerStreamLine,
} from '@corral/contracts';
import { handOverTo, type Attempt } from './proxy';

/** The longest NDJSON line a worker may send (a result with collected files is the largest). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Where a live hand-over delivers what the worker sends. */
export interface LiveSink {
  /** The job has its sandbox: control lines can go now. */
  started(control: (message: ControlMessage) => void): void;
  /** A chunk of output; false: no more until `resume` is called (the answer's reading stops, and with it the worker's). */
  output(stream: OutputStream, data: string, resume: () => void): boolean;
  result(result: ExecutionResult): void;
  /** The worker answered an error about the job itself (not a refusal before the start). */
  error(code: ErrorCode, message: string): void;
}

/**
 * Hands live jobs to workers: the request stays open for control lines (NDJSON after the job's
 * own line), the answer is NDJSON read line by line as it comes. Refusals before the start are
 * classified as for the blocking hand-over (proxy.ts), so dispatch retries only what never ran.
 */
export class StreamProxy {
  private readonly agent = new Agent({ keepAlive: true, timeout: WORKER_KEEP_ALIVE_MS - 10_000 });

  /** Never rejects; resolves once the result is in (or the attempt failed, or `stop` aborted it). */
  run(lease: Lease, job: Job, header: LiveJobHeader, requestId: string, timeoutMs: number, stop: AbortSignal, sink: LiveSink): Promise<Attempt> {
    const headers = { 'content-type': 'application/x-ndjson', [TOKEN_HEADER]: lease.token, [REQUEST_ID_HEADER]: requestId, [STREAM_HEADER]: '1' };
    // The job's own line; the request stays open for control lines.
    const write = (upstream: ClientRequest): void => void upstream.write(`${JSON.stringify({ ...header, job })}\n`);
    return handOverTo(this.agent, lease, headers, timeoutMs, stop, write, (answer, status, settle, upstream) => {
      if (status !== 200) return readError(answer, status, sink, settle);
      sink.started((message) => {
        if (!upstream.destroyed && !upstream.writableEnded) upstream.write(`${JSON.stringify(message)}\n`);
      });
      let done = false;
      readLines(
        answer,
        (line) => {
          if (line.type === 'result') {
            done = true;
            sink.result(line.result);
            upstream.end();
            settle({ kind: 'answered', httpStatus: 200, executionStatus: line.result.status });
            return true;
          }
          return sink.output(line.type, line.data, () => answer.resume());
        },
        () => {
          upstream.destroy();
          settle({ kind: 'failed', reason: 'the worker sent what is not the live protocol' });
        },
      );
      answer.once('close', () => {
        if (!done) settle({ kind: 'failed', reason: 'the answer was cut' });
      });
    }, 'client_gone');
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A line of the live protocol, as far as the router relies on it: output with text, or a result. */
function isStreamLine(line: unknown): line is WorkerStreamLine {
  if (typeof line !== 'object' || line === null) return false;
  const { type, data, result } = line as { type?: unknown; data?: unknown; result?: unknown };
  if (type === 'result') return typeof result === 'object' && result !== null;
  return (type === 'stdout' || type === 'stderr') && typeof data === 'string';
}

/** Reads NDJSON lines; `onLine` false pauses the answer (resumed by the sink). */
function readLines(answer: IncomingMessage, onLine: (line: WorkerStreamLine) => boolean, onBad: () => void): void {
  let pending = '';
  answer.setEncoding('utf8');
  answer.on('data', (text: string) => {
    pending += text;
    let nl = pending.indexOf('\n');
    let keepReading = true;
    while (nl !== -1) {
      const raw = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: unknown;
      try {
        line = JSON.parse(raw);
      } catch {
        return onBad();
      }
      if (!isStreamLine(line)) return onBad();
      if (!onLine(line)) keepReading = false;
      nl = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE_BYTES) return onBad();
    if (!keepReading) answer.pause();
  });
}

/** A worker's error about the job itself (not a refusal): passed on to the sink, as the answer to the job. */
function readError(answer: IncomingMessage, status: number, sink: LiveSink, settle: (attempt: Attempt) => void): void {
  const chunks: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => chunks.push(chunk));
  answer.once('end', () => {
    let code: ErrorCode = 'worker_failed';
    let message = `The worker answered ${status}.`;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
      if (isErrorCode(body.error?.code)) code = body.error.code;
      if (typeof body.error?.message === 'string') message = body.error.message;
    } catch {
      // not JSON: the generic message
    }
    sink.error(code, message);
    settle({ kind: 'answered', httpStatus: status, executionStatus: undefined });
  });
}
