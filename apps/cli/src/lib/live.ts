import type { CorralClient, ExecutionRequest, ExecutionResult } from '@corral/client';

/** Where a run's output goes as it comes. */
export interface RunSink {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Runs one program and hands its output to `sink`. The one seam for live output: today the
 * blocking call, so the output comes once the program ended; when the API streams (SSE), this is
 * where the events are read and written to the sink as they come, and nothing else changes.
 */
export async function runProgram(client: CorralClient, request: ExecutionRequest, sink: RunSink, signal: AbortSignal): Promise<ExecutionResult> {
  const result = await client.execute(request, { signal });
  if (result.stdout) sink.stdout(result.stdout);
  if (result.stderr) sink.stderr(result.stderr);
  return result;
}
