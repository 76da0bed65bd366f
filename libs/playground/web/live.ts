import type { CorralClient, ExecutionRequest, ExecutionResult } from '@corral/client';

/**
 * Runs the editor's program and fills the stdout and stderr panes as it runs: the client's SSE
 * stream, each chunk appended to its pane as it arrives. The result comes last (its stdout and
 * stderr are empty: they were streamed); errors are the blocking call's, with the same codes.
 */
export async function runProgram(client: CorralClient, request: ExecutionRequest, panes: { stdout: HTMLElement; stderr: HTMLElement }, signal: AbortSignal): Promise<ExecutionResult> {
  for await (const event of client.stream(request, { signal })) {
    if (event.type === 'result') return event.result;
    panes[event.type].append(event.data);
  }
  // stream() yields a result or throws; it cannot end without one.
  throw new Error('the stream ended without a result');
}
