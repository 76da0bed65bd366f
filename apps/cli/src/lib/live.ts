import type { CorralClient, ExecutionRequest, ExecutionResult } from '@corral/client';
import type { Output } from './output';

/**
 * Runs one program for `corral run`, its stdout to this process's stdout and its stderr to
 * stderr, as it runs: the client's SSE stream, each chunk written as it arrives (waiting
 * for a full pipe to drain). The result
 * comes last (its stdout and stderr are empty: they were streamed). Errors, the abort of
 * Ctrl-C and the exit codes are the blocking call's: the same client errors with the same codes.
 */
export async function runProgram(client: CorralClient, request: ExecutionRequest, o: Pick<Output, 'out' | 'err'>, signal: AbortSignal): Promise<ExecutionResult> {
  for await (const event of client.stream(request, { signal })) {
    if (event.type === 'result') return event.result;
    const to = event.type === 'stdout' ? o.out : o.err;
    // A reader slower than the program (a pipe into `less`) slows the stream, and so the program, to its pace.
    if (!to.write(event.data)) await new Promise<void>((resolve) => to.once('drain', () => resolve()));
  }
  // stream() yields a result or throws; it cannot end without one.
  throw new Error('the stream ended without a result');
}
