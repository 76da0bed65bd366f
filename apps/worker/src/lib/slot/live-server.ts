import type { IncomingMessage, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { CorralError, parseControlLine, parseExecutionRequest, type ControlMessage, type ExecutionLimits, type OutputStream, type WorkerStreamLine } from '@corral/contracts';
import type { LiveOutput } from '@corral/sandbox';
import type { Logger } from '@corral/service';
import { sendError } from '../http';
import { toExecutionResult } from '../outcome';
import type { SlotLifecycle } from './lifecycle';
import type { SlotSandbox } from './ports';

/**
 * Splits a request body into lines as they come, each at most `maxLineBytes` (the first line
 * may be larger: `firstLineBytes`). @throws CorralError payload_too_large through `onError`
 */
function readLines(req: IncomingMessage, firstLineBytes: number, maxLineBytes: number, onLine: (line: string, index: number) => void, onError: (err: CorralError) => void): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  req.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, nl));
      const line = Buffer.concat(pending).toString('utf8');
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
      if (line.length > 0) onLine(line, index++);
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > (index === 0 ? firstLineBytes : maxLineBytes)) {
        req.destroy();
        onError(new CorralError('payload_too_large', 'A line of the live hand-over is too long.'));
      }
    }
  });
}

/**
 * A live job on one slot (a hand-over with STREAM_HEADER): the request is NDJSON, a first
 * line `{ interactive, includeOutput, job }` then control lines (`stdin`, `stdin_end`,
 * `signal`); the answer, once the job has its sandbox, is 200 with NDJSON: output chunks as
 * the sandbox reads them, then one `result`. Refusals before the start are the usual error
 * answers (so the router retries them elsewhere). The answer's backpressure reaches the
 * sandbox: while the router does not read, the program's pipes are not read either.
 */
export function serveLive(req: IncomingMessage, res: ServerResponse, lifecycle: SlotLifecycle, token: string, id: string, limits: ExecutionLimits, bodyLimit: number, log: Logger): void {
  let sandbox: SlotSandbox | null = null;
  let gone = false;
  let begun = false;
  const early: ControlMessage[] = [];
  const apply = (message: ControlMessage, target: SlotSandbox): void => {
    if (message.type === 'stdin') target.writeStdin(message.data);
    else if (message.type === 'stdin_end') target.endStdin();
    else target.signal(message.signal);
  };
  res.once('close', () => {
    if (res.writableFinished) return;
    gone = true;
    sandbox?.kill();
  });
  const begin = (first: string): void => {
    let header: { interactive?: unknown; includeOutput?: unknown; job?: unknown };
    try {
      header = JSON.parse(first) as typeof header;
    } catch {
      return sendError(res, 'invalid_json');
    }
    let job;
    try {
      job = parseExecutionRequest(header.job, limits);
    } catch (err) {
      return sendError(res, err instanceof CorralError ? err : 'invalid_request');
    }
    begun = true;
    // A failure of the run (a boot that fails, Redis, a write after an answer) ends this answer,
    // never the worker: every other slot's jobs live in the same process.
    run(job, header.interactive === true, header.includeOutput === true).catch((err: unknown) => {
      log.error({ err }, 'live job failed');
      sandbox?.kill();
      if (res.headersSent) res.destroy();
      else sendError(res, 'internal');
    });
  };
  const decoders: Record<OutputStream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  const waiting = new Set<OutputStream>();
  const send = (line: WorkerStreamLine): boolean => res.write(`${JSON.stringify(line)}\n`);
  const live = (interactive: boolean, keep: boolean): LiveOutput => ({
    keep,
    interactive,
    onOutput(stream, chunk, resume) {
      const data = decoders[stream].write(chunk);
      if (data === '' || gone) return true;
      if (send({ type: stream, data })) return true;
      // One drain listener per stream at a time, however many writes come back false.
      if (!waiting.has(stream)) {
        waiting.add(stream);
        res.once('drain', () => {
          waiting.delete(stream);
          resume();
        });
      }
      return false;
    },
  });
  const run = async (job: ReturnType<typeof parseExecutionRequest>, interactive: boolean, includeOutput: boolean): Promise<void> => {
    const outcome = await lifecycle.run(
      token,
      job,
      (started) => {
        sandbox = started;
        if (gone || res.headersSent) return started.kill();
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.flushHeaders();
        for (const message of early.splice(0)) apply(message, started);
      },
      live(interactive, includeOutput),
    );
    if (outcome.kind === 'refused') {
      log.warn({ outcome: outcome.code, detail: outcome.detail }, 'live job refused');
      if (outcome.code === 'unavailable') return sendError(res, 'unavailable', 'The registry (Redis) cannot be reached; the job did not start.');
      return sendError(res, outcome.code);
    }
    if (gone) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = decoders[stream].end();
      if (rest) send({ type: stream, data: rest });
    }
    const result = toExecutionResult(id, outcome.run, outcome.killReason);
    if (!includeOutput) Object.assign(result, { stdout: '', stderr: '' });
    res.end(`${JSON.stringify({ type: 'result', result } satisfies WorkerStreamLine)}\n`);
    log.info({ status: result.status, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs }, 'live job done');
  };
  readLines(
    req,
    bodyLimit,
    limits.maxStdinBytes * 6 + 1024,
    (line, index) => {
      if (index === 0) return begin(line);
      if (!begun) return;
      let message: ControlMessage;
      try {
        message = parseControlLine(line);
      } catch {
        return log.warn('ignored a control line that is not the protocol');
      }
      if (sandbox) apply(message, sandbox);
      else early.push(message);
    },
    (err) => sendError(res, err),
  );
}
